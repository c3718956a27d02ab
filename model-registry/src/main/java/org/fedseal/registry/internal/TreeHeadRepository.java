package org.fedseal.registry.internal;

import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.wire.SignedTreeHead;

/** SQL of the signed tree heads issued (table {@code tree_heads}) and the log's settings. */
final class TreeHeadRepository {
    private final Database db;

    TreeHeadRepository(Database db) {
        this.db = db;
    }

    Optional<SignedTreeHead> atSize(long size) {
        return db.queryOne(
                "SELECT record FROM tree_heads WHERE tree_size = ?",
                rs -> Records.decode(rs.getString(1), SignedTreeHead.class),
                size);
    }

    void insert(SignedTreeHead h) {
        db.update(
                "INSERT INTO tree_heads (tree_size, root_hash, issued_at, record) VALUES (?,?,?,?)",
                h.getTreeSize(),
                Hash.of(h.getRootHash()).toHex(),
                h.getTimestampEpochMillis(),
                Base64.getEncoder().encodeToString(WireCodec.UNBOUNDED.encode(h)));
    }

    List<SignedTreeHead> all() {
        return db.query(
                "SELECT record FROM tree_heads ORDER BY tree_size",
                rs -> Records.decode(rs.getString(1), SignedTreeHead.class));
    }
}

package org.fedseal.registry.internal;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fedseal.protocol.Hash;
import org.fedseal.protocol.LogStore;
import org.fedseal.protocol.WireCodec;
import org.fedseal.protocol.WireFormatException;
import org.fedseal.protocol.wire.LogEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable {@link LogStore} in the registry database (table {@code log_entries}): the SQL of the
 * provenance log. Each append joins the caller's write transaction (or is committed alone). Leaf
 * hashes and row ids are mirrored in memory so that size and leaf lookups cost no query; the entry
 * bytes are read from the database, except for entries whose transaction has not committed yet,
 * which are kept in memory until it does. When that transaction rolls back, the entries it
 * appended are dropped again and {@code onRollback} runs (the owner rebuilds its tree cache).
 */
public final class SqlLogStore implements LogStore {
    private static final Logger LOG = LoggerFactory.getLogger(SqlLogStore.class);
    private final Database db;
    private final List<Long> rowIds = new ArrayList<>();
    private final List<Hash> leafHashes = new ArrayList<>();
    private final Map<Long, byte[]> uncommitted = new HashMap<>();
    private Runnable onRollback = () -> {};

    /** Loads the leaf index from {@code db}. */
    public SqlLogStore(Database db) {
        this.db = db;
        db.query("SELECT idx, leaf_hash FROM log_entries ORDER BY idx", rs -> {
            rowIds.add(rs.getLong(1));
            leafHashes.add(Hash.fromHex(rs.getString(2)));
            return null;
        });
        for (int i = 0; i < rowIds.size(); i++) {
            if (rowIds.get(i) != i) {
                LOG.error(
                        "provenance log has a gap: row {} is at position {} (entries were removed)", rowIds.get(i), i);
                break;
            }
        }
    }

    /** Sets what runs after a transaction that appended entries rolled back (and they were dropped). */
    synchronized void onRollback(Runnable r) {
        this.onRollback = r;
    }

    @Override
    public synchronized long append(byte[] entry, Hash leafHash) {
        long index = rowIds.isEmpty() ? 0 : rowIds.get(rowIds.size() - 1) + 1;
        String kind = "UNKNOWN";
        String model = "";
        int round = -1;
        String subject = "";
        try {
            LogEntry e = WireCodec.UNBOUNDED.decode(entry, LogEntry.class);
            kind = e.getKind().name();
            model = e.getModelId();
            round = e.getRound();
            subject = Hash.of(e.getSubjectHash()).toHex();
        } catch (WireFormatException | IllegalArgumentException e) {
            LOG.warn("appending an entry that is not a LogEntry: {}", e.getMessage());
        }
        String m = model;
        int r = round;
        String k = kind;
        String sub = subject;
        db.tx(c -> {
            db.update(
                    "INSERT INTO log_entries (idx, entry, leaf_hash, kind, model_id, round_no, subject_hash) VALUES (?,?,?,?,?,?,?)",
                    index,
                    Base64.getEncoder().encodeToString(entry),
                    leafHash.toHex(),
                    k,
                    m,
                    r,
                    sub);
            int before = leafHashes.size();
            rowIds.add(index);
            leafHashes.add(leafHash);
            uncommitted.put(index, entry.clone());
            db.onCompletion(committed -> completed(committed, before, index));
            return null;
        });
        return leafHashes.size() - 1L;
    }

    private void completed(boolean committed, int sizeBefore, long row) {
        Runnable after = null;
        synchronized (this) {
            uncommitted.remove(row);
            if (!committed && leafHashes.size() > sizeBefore) {
                LOG.warn("a transaction that appended log entry {} rolled back; dropping it", sizeBefore);
                while (leafHashes.size() > sizeBefore) {
                    uncommitted.remove(rowIds.remove(rowIds.size() - 1));
                    leafHashes.remove(leafHashes.size() - 1);
                }
                after = onRollback;
            }
        }
        if (after != null) {
            after.run();
        }
    }

    @Override
    public synchronized long size() {
        return leafHashes.size();
    }

    @Override
    public synchronized Hash leafHash(long index) {
        return leafHashes.get(check(index));
    }

    @Override
    public synchronized byte[] entry(long index) {
        long row = rowIds.get(check(index));
        byte[] pending = uncommitted.get(row);
        if (pending != null) {
            return pending.clone();
        }
        return db.queryOne(
                        "SELECT entry FROM log_entries WHERE idx = ?",
                        rs -> Base64.getDecoder().decode(rs.getString(1)),
                        row)
                .orElseThrow(() -> new IndexOutOfBoundsException("log entry " + index + " vanished"));
    }

    /** Position of the first entry about {@code subjectHash} (optionally of {@code kind}), or -1. */
    public long findSubject(Hash subjectHash, String kind) {
        List<Long> rows = db.query(
                "SELECT idx FROM log_entries WHERE subject_hash = ?" + (kind == null ? "" : " AND kind = ?")
                        + " ORDER BY idx",
                rs -> rs.getLong(1),
                kind == null ? new Object[] {subjectHash.toHex()} : new Object[] {subjectHash.toHex(), kind});
        if (rows.isEmpty()) {
            return -1;
        }
        synchronized (this) {
            return rowIds.indexOf(rows.get(0));
        }
    }

    private int check(long index) {
        if (index < 0 || index >= leafHashes.size()) {
            throw new IndexOutOfBoundsException("no leaf " + index + " in a log of size " + leafHashes.size());
        }
        return (int) index;
    }
}

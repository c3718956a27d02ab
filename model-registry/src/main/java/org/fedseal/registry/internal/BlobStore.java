package org.fedseal.registry.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import org.fedseal.protocol.Hash;

/**
 * Content-addressed files: {@code <dir>/<first 2 hex>/<hash hex>}. Written to a temporary file, synced
 * and atomically moved, so a blob is either absent or complete. The address is the SHA-256 of the
 * bytes, or for wire records their canonical hash (stated by the caller).
 */
public final class BlobStore {
    private final Path dir;

    /** A store under {@code dir} (created if missing). */
    public BlobStore(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stores {@code bytes} under their SHA-256; returns it. */
    public Hash put(byte[] bytes) {
        Hash h = Hash.sha256(bytes);
        put(h, bytes);
        return h;
    }

    /** Stores {@code bytes} under {@code address} (idempotent). */
    public void put(Hash address, byte[] bytes) {
        Path target = path(address);
        if (Files.exists(target)) {
            return;
        }
        try {
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), ".blob", ".tmp");
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(bytes));
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store blob " + address, e);
        }
    }

    /** The blob at {@code address}, if present. */
    public Optional<byte[]> get(Hash address) {
        Path p = path(address);
        try {
            return Files.exists(p) ? Optional.of(Files.readAllBytes(p)) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Size in bytes of the blob at {@code address}, or -1 if there is none. */
    public long size(Hash address) {
        try {
            return Files.size(path(address));
        } catch (IOException e) {
            return -1;
        }
    }

    /** Deletes the blob under {@code address}, if any. */
    public void delete(Hash address) {
        try {
            Files.deleteIfExists(path(address));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path path(Hash h) {
        String hex = h.toHex();
        return dir.resolve(hex.substring(0, 2)).resolve(hex);
    }
}

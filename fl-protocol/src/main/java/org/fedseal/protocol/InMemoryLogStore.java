package org.fedseal.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** A {@link LogStore} in memory, for tests and ephemeral logs. Thread-safe. */
public final class InMemoryLogStore implements LogStore {
    private final List<byte[]> entries = new ArrayList<>();
    private final List<Hash> leafHashes = new ArrayList<>();

    @Override
    public synchronized long append(byte[] entry, Hash leafHash) {
        Objects.requireNonNull(entry, "entry");
        Objects.requireNonNull(leafHash, "leafHash");
        entries.add(entry.clone());
        leafHashes.add(leafHash);
        return entries.size() - 1L;
    }

    @Override
    public synchronized long size() {
        return entries.size();
    }

    @Override
    public synchronized Hash leafHash(long index) {
        return leafHashes.get(checkIndex(index));
    }

    @Override
    public synchronized byte[] entry(long index) {
        return entries.get(checkIndex(index)).clone();
    }

    private int checkIndex(long index) {
        if (index < 0 || index >= entries.size()) {
            throw new IndexOutOfBoundsException("no leaf " + index + " in a log of size " + entries.size());
        }
        return (int) index;
    }
}

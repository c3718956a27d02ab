package org.fedseal.he.internal;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongConsumer;

/**
 * Owns one native pointer: freed exactly once, by {@link #close()} or by a {@link Cleaner}
 * once the owner is unreachable. Not API: used by {@code org.fedseal.he} only.
 *
 * <p>Native calls run under a {@link Lease} (a read lock), so {@code close()} on another
 * thread waits for calls in flight instead of freeing memory under them, and the lease keeps
 * the owner reachable for the whole call.
 */
public final class NativeHandle implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final Object owner;

    /**
     * @param owner the public object whose unreachability frees the pointer
     * @param pointer the native pointer, non-zero
     * @param destroy the native function that frees it
     * @param kind a name for error messages, e.g. "EncryptedVector"
     */
    public NativeHandle(Object owner, long pointer, LongConsumer destroy, String kind) {
        if (pointer == 0) {
            throw new IllegalArgumentException("null native pointer for " + kind);
        }
        this.owner = owner;
        this.state = new State(pointer, destroy, kind);
        this.cleanable = CLEANER.register(owner, state);
    }

    /** Starts a native call: the pointer stays valid until the lease is closed. */
    public Lease lease() {
        state.lock.readLock().lock();
        long p = state.pointer.get();
        if (p == 0) {
            state.lock.readLock().unlock();
            throw new IllegalStateException(state.kind + " is closed");
        }
        return new Lease(this, p);
    }

    /** Whether the pointer has been freed. */
    public boolean isClosed() {
        return state.pointer.get() == 0;
    }

    /** Frees the pointer; harmless when called again. */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** A native call in progress. */
    public static final class Lease implements AutoCloseable {
        private final NativeHandle handle;
        private final long pointer;

        private Lease(NativeHandle handle, long pointer) {
            this.handle = handle;
            this.pointer = pointer;
        }

        /** The native pointer, valid until {@link #close()}. */
        public long pointer() {
            return pointer;
        }

        @Override
        public void close() {
            handle.state.lock.readLock().unlock();
            java.lang.ref.Reference.reachabilityFence(handle.owner);
        }
    }

    // Must not reference the owner, or the Cleaner would never run.
    private static final class State implements Runnable {
        final AtomicLong pointer;
        final LongConsumer destroy;
        final String kind;
        final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

        State(long pointer, LongConsumer destroy, String kind) {
            this.pointer = new AtomicLong(pointer);
            this.destroy = destroy;
            this.kind = kind;
        }

        @Override
        public void run() {
            lock.writeLock().lock();
            try {
                long p = pointer.getAndSet(0);
                if (p != 0) {
                    destroy.accept(p);
                }
            } finally {
                lock.writeLock().unlock();
            }
        }
    }
}

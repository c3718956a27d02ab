package org.fedseal.registry.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's relational store: a HikariCP pool over SQLite (default) or PostgreSQL (by URL),
 * schema migrated by Flyway at open.
 *
 * <p>Two kinds of unit of work. {@link #tx} is a write transaction: write transactions are
 * serialised by one lock (SQLite has one writer anyway, and the provenance log's leaf order must be
 * the commit order), so they never conflict with each other. {@link #read} runs queries on one
 * pooled connection without that lock, concurrently with writers and other readers. Both nest: a
 * unit of work started inside another on the same thread joins it, and {@link #query}/{@link
 * #update} join the thread's current unit of work. A read started inside a write transaction sees
 * its uncommitted rows; a write transaction cannot be started inside a read.
 */
public final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    /** Default number of pooled connections. */
    public static final int DEFAULT_POOL_SIZE = 8;

    /** A unit of work on the connection. */
    @FunctionalInterface
    public interface Work<T> {
        /** Runs against {@code c}. */
        T run(Connection c) throws SQLException;
    }

    /** Maps one result row. */
    @FunctionalInterface
    public interface RowMapper<T> {
        /** Maps the current row of {@code rs}. */
        T map(ResultSet rs) throws SQLException;
    }

    /** Called once when the outermost write transaction ends. */
    @FunctionalInterface
    public interface Completion {
        /** {@code committed} is false after a rollback. */
        void completed(boolean committed);
    }

    /** The unit of work bound to a thread. */
    private static final class Unit {
        final Connection conn;
        final boolean write;
        int depth;
        final List<Completion> completions = new ArrayList<>();

        Unit(Connection conn, boolean write) {
            this.conn = conn;
            this.write = write;
        }
    }

    private final HikariDataSource pool;
    private final String url;
    private final ReentrantLock writeLock = new ReentrantLock(true);
    private final ThreadLocal<Unit> current = new ThreadLocal<>();

    /** Migrates and opens the database at {@code jdbcUrl} with {@link #DEFAULT_POOL_SIZE} connections. */
    public Database(String jdbcUrl, String user, String password) {
        this(jdbcUrl, user, password, DEFAULT_POOL_SIZE);
    }

    /** Migrates and opens the database at {@code jdbcUrl} with a pool of {@code poolSize} connections. */
    public Database(String jdbcUrl, String user, String password, int poolSize) {
        this.url = jdbcUrl;
        if (poolSize < 1) {
            throw new IllegalArgumentException("pool size must be >= 1, got " + poolSize);
        }
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(jdbcUrl);
        if (user != null) {
            hc.setUsername(user);
        }
        if (password != null) {
            hc.setPassword(password);
        }
        hc.setPoolName("fedseal-registry");
        hc.setMaximumPoolSize(poolSize);
        hc.setMinimumIdle(Math.min(2, poolSize));
        hc.setConnectionTimeout(30_000);
        if (isSqlite()) {
            // Per-connection pragmas, read by the SQLite driver from its connection properties.
            hc.addDataSourceProperty("journal_mode", "WAL");
            hc.addDataSourceProperty("synchronous", "FULL");
            hc.addDataSourceProperty("busy_timeout", "10000");
        }
        try {
            pool = new HikariDataSource(hc);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot open database " + jdbcUrl + ": " + e.getMessage(), e);
        }
        try {
            Flyway.configure()
                    .dataSource(pool)
                    .locations("classpath:db/migration")
                    .load()
                    .migrate();
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        LOG.info("database {} open and migrated (pool of {})", jdbcUrl, poolSize);
    }

    /** True for an SQLite URL. */
    public boolean isSqlite() {
        return url.startsWith("jdbc:sqlite:");
    }

    /** True while this thread is inside a write transaction. */
    public boolean inWriteTransaction() {
        Unit u = current.get();
        return u != null && u.write;
    }

    /**
     * Runs {@code work} in a write transaction (joins an enclosing one on this thread); commits at the
     * end of the outermost, rolls back if it throws.
     *
     * @throws IllegalStateException if this thread is inside a {@link #read}
     */
    public <T> T tx(Work<T> work) {
        Unit u = current.get();
        if (u != null) {
            if (!u.write) {
                throw new IllegalStateException("a write transaction cannot start inside a read");
            }
            return join(u, work);
        }
        writeLock.lock();
        Unit outer = null;
        boolean committed = false;
        try {
            outer = new Unit(pool.getConnection(), true);
            outer.conn.setAutoCommit(false);
            current.set(outer);
            T result = join(outer, work);
            outer.conn.commit();
            committed = true;
            return result;
        } catch (SQLException | RuntimeException e) {
            if (outer != null) {
                try {
                    outer.conn.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                }
            }
            throw unchecked(e);
        } finally {
            current.remove();
            try {
                if (outer != null) {
                    release(outer, true);
                    for (Completion c : outer.completions) {
                        try {
                            c.completed(committed);
                        } catch (RuntimeException e) {
                            LOG.error("after {}: {}", committed ? "commit" : "rollback", e.toString(), e);
                        }
                    }
                }
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** Runs read-only {@code work} on one pooled connection (joins this thread's unit of work, if any). */
    public <T> T read(Work<T> work) {
        Unit u = current.get();
        if (u != null) {
            return join(u, work);
        }
        Unit outer = null;
        try {
            outer = new Unit(pool.getConnection(), false);
            current.set(outer);
            return join(outer, work);
        } catch (SQLException | RuntimeException e) {
            throw unchecked(e);
        } finally {
            current.remove();
            if (outer != null) {
                release(outer, false);
            }
        }
    }

    /**
     * Calls {@code c} once when this thread's write transaction ends (after commit or rollback).
     *
     * @throws IllegalStateException outside a write transaction
     */
    public void onCompletion(Completion c) {
        Unit u = current.get();
        if (u == null || !u.write) {
            throw new IllegalStateException("not inside a write transaction");
        }
        u.completions.add(c);
    }

    private static <T> T join(Unit u, Work<T> work) {
        u.depth++;
        try {
            return work.run(u.conn);
        } catch (SQLException e) {
            throw unchecked(e);
        } finally {
            u.depth--;
        }
    }

    private static void release(Unit u, boolean restoreAutoCommit) {
        try {
            if (restoreAutoCommit) {
                u.conn.setAutoCommit(true);
            }
        } catch (SQLException ignored) {
            // a broken connection; the pool evicts it
        }
        try {
            u.conn.close();
        } catch (SQLException e) {
            LOG.warn("returning a connection to the pool: {}", e.getMessage());
        }
    }

    private static RuntimeException unchecked(Exception e) {
        if (e instanceof RuntimeException re) {
            return re;
        }
        return new IllegalStateException("database error: " + e.getMessage(), e);
    }

    /** Executes an INSERT/UPDATE/DELETE in a write transaction (joins one); returns the update count. */
    public int update(String sql, Object... args) {
        return tx(c -> {
            try (PreparedStatement ps = prepare(c, sql, args)) {
                return ps.executeUpdate();
            }
        });
    }

    /** Runs a query and maps every row (joins this thread's unit of work, else reads on its own connection). */
    public <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) {
        return read(c -> {
            try (PreparedStatement ps = prepare(c, sql, args);
                    ResultSet rs = ps.executeQuery()) {
                List<T> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(mapper.map(rs));
                }
                return out;
            }
        });
    }

    /** The first row, if any. */
    public <T> Optional<T> queryOne(String sql, RowMapper<T> mapper, Object... args) {
        List<T> rows = query(sql, mapper, args);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }

    /** A single long (e.g. COUNT or MAX); 0 for NULL. */
    public long queryLong(String sql, Object... args) {
        return queryOne(sql, rs -> rs.getLong(1), args).orElse(0L);
    }

    /** Reads a setting. */
    public Optional<String> setting(String name) {
        return queryOne("SELECT value FROM settings WHERE name = ?", rs -> rs.getString(1), name);
    }

    /** Writes a setting (insert only; settings are write-once). */
    public void putSetting(String name, String value) {
        update("INSERT INTO settings (name, value) VALUES (?, ?)", name, value);
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps;
    }

    @Override
    public void close() {
        pool.close();
    }
}

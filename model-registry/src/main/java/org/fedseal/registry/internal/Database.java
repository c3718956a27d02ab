package org.fedseal.registry.internal;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's relational store: one JDBC connection (SQLite by default, PostgreSQL by URL), schema
 * migrated by Flyway at open. All access is serialised on this object; {@link #tx} nests.
 */
public final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);

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

    private final Connection conn;
    private final String url;
    private int depth;

    /** Migrates and opens the database at {@code jdbcUrl}. */
    public Database(String jdbcUrl, String user, String password) {
        this.url = jdbcUrl;
        Flyway.configure()
                .dataSource(jdbcUrl, user, password)
                .locations("classpath:db/migration")
                .load()
                .migrate();
        try {
            conn = DriverManager.getConnection(jdbcUrl, user, password);
            if (isSqlite()) {
                try (Statement s = conn.createStatement()) {
                    s.execute("PRAGMA journal_mode=WAL");
                    s.execute("PRAGMA synchronous=FULL");
                    s.execute("PRAGMA busy_timeout=5000");
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open database " + jdbcUrl + ": " + e.getMessage(), e);
        }
        LOG.info("database {} open and migrated", jdbcUrl);
    }

    /** True for an SQLite URL. */
    public boolean isSqlite() {
        return url.startsWith("jdbc:sqlite:");
    }

    /** Runs {@code work} in a transaction (joins an enclosing one). */
    public synchronized <T> T tx(Work<T> work) {
        boolean outer = depth == 0;
        try {
            if (outer) {
                conn.setAutoCommit(false);
            }
            depth++;
            T result;
            try {
                result = work.run(conn);
            } finally {
                depth--;
            }
            if (outer) {
                conn.commit();
            }
            return result;
        } catch (SQLException | RuntimeException e) {
            if (outer) {
                try {
                    conn.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                }
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("database error: " + e.getMessage(), e);
        } finally {
            if (outer) {
                try {
                    conn.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // connection broken; next call reports it
                }
            }
        }
    }

    /** Executes an INSERT/UPDATE/DELETE; returns the update count. */
    public int update(String sql, Object... args) {
        return tx(c -> {
            try (PreparedStatement ps = prepare(c, sql, args)) {
                return ps.executeUpdate();
            }
        });
    }

    /** Runs a query and maps every row. */
    public <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) {
        return tx(c -> {
            try (PreparedStatement ps = prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
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
    public synchronized void close() {
        try {
            conn.close();
        } catch (SQLException e) {
            LOG.warn("closing database: {}", e.getMessage());
        }
    }
}

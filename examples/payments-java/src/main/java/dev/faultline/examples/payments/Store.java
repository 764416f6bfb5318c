package dev.faultline.examples.payments;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The Postgres side: one transaction per batch. Every write is idempotent, so a batch may be
 * written again after a lost connection, an in-doubt COMMIT, a redelivery or a zombie worker.
 */
final class Store implements AutoCloseable {
    /** Tries of one batch before the worker gives up (exits 1, its batch uncommitted in Kafka). */
    private static final int ATTEMPTS = 30;

    static final List<String> TABLES = List.of("payments", "payment_events", "account_totals");

    /** A valid payment and where it was read. */
    record Row(Payment p, int partition, long offset) {}

    private final Config cfg;
    private final String upsertPayment;
    private final String insertEvent;
    private final String addTotals;
    private Connection conn;

    Store(Config cfg) {
        this.cfg = cfg;
        String s = cfg.schema;
        // The correct upsert moves a payment forward only: an older or repeated event changes nothing.
        String guard = cfg.bug("older-overwrites-newer") ? "" : " WHERE p.seq < EXCLUDED.seq";
        upsertPayment = "INSERT INTO " + s + ".payments AS p (payment_id, account_id, status, seq, amount_minor,"
                + " currency, occurred_at, source_partition, source_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (payment_id) DO UPDATE SET account_id = EXCLUDED.account_id,"
                + " status = EXCLUDED.status, seq = EXCLUDED.seq, amount_minor = EXCLUDED.amount_minor,"
                + " currency = EXCLUDED.currency, occurred_at = EXCLUDED.occurred_at,"
                + " source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset"
                + guard;
        // The same columns in the same order as the upsert: one bind() fills both.
        insertEvent = "INSERT INTO " + s + ".payment_events (payment_id, account_id, status, seq, amount_minor,"
                + " currency, occurred_at, source_partition, source_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (payment_id, seq) DO NOTHING";
        addTotals = "INSERT INTO " + s + ".account_totals AS t (account_id, currency, events, captured_minor,"
                + " refunded_minor) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, currency) DO UPDATE SET"
                + " events = t.events + EXCLUDED.events,"
                + " captured_minor = t.captured_minor + EXCLUDED.captured_minor,"
                + " refunded_minor = t.refunded_minor + EXCLUDED.refunded_minor";
    }

    /** Connects and checks the tables are there (a missing one is a configuration problem). */
    void open() throws SQLException, Config.Problem {
        conn = connect();
        try (PreparedStatement st = conn.prepareStatement("SELECT to_regclass(?)")) {
            for (String t : TABLES) {
                st.setString(1, cfg.schema + "." + t);
                try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    if (rs.getString(1) == null) {
                        throw new Config.Problem("PAYMENTS_DB_SCHEMA", "schema '" + cfg.schema + "' has no table " + t
                                + ": apply schema.sql with {schema} replaced first");
                    }
                }
            }
        }
        // Autocommit is off: end the check's transaction rather than sit idle in it until the first batch.
        conn.rollback();
    }

    private Connection connect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", cfg.dbUser);
        props.setProperty("password", cfg.dbPassword);
        // Names every session: operators (and faultline's in-transaction faults) find ours by it.
        props.setProperty("ApplicationName", cfg.appName);
        props.setProperty("connectTimeout", "10");
        props.setProperty("loginTimeout", "15");
        // A read that hangs this long (a network partition) fails the transaction, which is retried.
        props.setProperty("socketTimeout", "60");
        props.setProperty("tcpKeepAlive", "true");
        Connection c = DriverManager.getConnection(cfg.jdbcUrl(), props);
        c.setAutoCommit(false);
        return c;
    }

    /**
     * Writes the batch in one transaction, retried on a fresh connection while the failure is one a
     * retry can cure (the connection lost, the server restarting, a deadlock with another worker).
     */
    void write(List<Row> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                if (conn == null || conn.isClosed()) {
                    conn = connect();
                }
                writeOnce(rows);
                return;
            } catch (SQLException e) {
                boolean retry = retryable(e);
                rollbackQuietly();
                if (!retry || attempt == ATTEMPTS) {
                    throw e;
                }
                Log.warn("postgres: " + firstLine(e) + " (SQLSTATE " + e.getSQLState() + "); retrying the batch of "
                        + rows.size() + ", attempt " + (attempt + 1));
                if (lost(e)) {
                    closeQuietly();
                }
                sleep(Math.min(200L * attempt, 2_000L));
            }
        }
    }

    private void writeOnce(List<Row> rows) throws SQLException {
        try (PreparedStatement up = conn.prepareStatement(upsertPayment);
                PreparedStatement ev = conn.prepareStatement(insertEvent);
                PreparedStatement tot = conn.prepareStatement(addTotals)) {
            // In arrival order: the seq guard keeps the newest whatever the order.
            for (Row r : rows) {
                bind(up, r);
                up.addBatch();
                bind(ev, r);
                ev.addBatch();
            }
            up.executeBatch();
            int[] inserted = ev.executeBatch();
            // Totals move only by the events this transaction inserted: a redelivered event finds its
            // (payment_id, seq) taken and adds nothing.
            Map<List<String>, long[]> totals = new TreeMap<>((a, b) -> {
                int c = a.get(0).compareTo(b.get(0));
                return c != 0 ? c : a.get(1).compareTo(b.get(1));
            });
            for (int i = 0; i < rows.size(); i++) {
                boolean isNew = inserted[i] > 0;
                if (!isNew && !cfg.bug("non-idempotent")) {
                    continue;
                }
                Payment p = rows.get(i).p();
                long[] t = totals.computeIfAbsent(List.of(p.accountId(), p.currency()), k -> new long[3]);
                t[0] += 1;
                if (p.status().equals("captured")) {
                    t[1] += p.amountMinor();
                } else if (p.status().equals("refunded")) {
                    t[2] += p.amountMinor();
                }
            }
            // In key order, so two workers writing the same accounts cannot deadlock on them.
            for (Map.Entry<List<String>, long[]> e : totals.entrySet()) {
                tot.setString(1, e.getKey().get(0));
                tot.setString(2, e.getKey().get(1));
                tot.setLong(3, e.getValue()[0]);
                tot.setLong(4, e.getValue()[1]);
                tot.setLong(5, e.getValue()[2]);
                tot.addBatch();
            }
            tot.executeBatch();
        }
        conn.commit();
    }

    private static void bind(PreparedStatement st, Row r) throws SQLException {
        Payment p = r.p();
        st.setString(1, p.paymentId());
        st.setString(2, p.accountId());
        st.setString(3, p.status());
        st.setLong(4, p.seq());
        st.setLong(5, p.amountMinor());
        st.setString(6, p.currency());
        st.setObject(7, p.occurredAt());
        st.setInt(8, r.partition());
        st.setLong(9, r.offset());
    }

    private boolean retryable(SQLException e) {
        String state = e.getSQLState();
        if (state != null
                && (state.startsWith("08")
                        || state.startsWith("57P")
                        || state.startsWith("53")
                        || state.equals("40001")
                        || state.equals("40P01"))) {
            return true;
        }
        return lost(e);
    }

    private boolean lost(SQLException e) {
        String state = e.getSQLState();
        if (state != null && (state.startsWith("08") || state.startsWith("57P"))) {
            return true;
        }
        try {
            return conn == null || conn.isClosed() || !conn.isValid(2);
        } catch (SQLException again) {
            return true;
        }
    }

    private void rollbackQuietly() {
        try {
            if (conn != null && !conn.isClosed()) {
                conn.rollback();
            }
        } catch (SQLException ignored) {
            // the connection is gone: nothing of the transaction remains
        }
    }

    private void closeQuietly() {
        try {
            if (conn != null) {
                conn.close();
            }
        } catch (SQLException ignored) {
            // closing a broken connection
        }
        conn = null;
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }
}

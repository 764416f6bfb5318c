package dev.faultline.examples.payments;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The sink's settings, read from its own environment variables. A bad one is a {@link Problem}. */
final class Config {
    /** A missing or bad variable: main prints it and exits 2. */
    static final class Problem extends Exception {
        private static final long serialVersionUID = 1L;

        Problem(String variable, String what) {
            super(variable + ": " + what);
        }
    }

    /** The planted bugs PAYMENTS_BUG may select (README.md, "Planted bugs"). */
    static final List<String> BUGS = List.of("commit-before-db", "non-idempotent", "older-overwrites-newer");

    private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");

    final String bootstrap;
    final String topic;
    final String dlqTopic;
    final String group;
    final String dbHost;
    final int dbPort;
    final String dbName;
    final String dbUser;
    final String dbPassword;
    final String schema;
    final String appName;
    final String worker;
    final int batchRecords;
    final int lingerMs;
    final int sessionTimeoutMs;
    final String bug;

    Config(Map<String, String> env) throws Problem {
        bootstrap = required(env, "PAYMENTS_BOOTSTRAP");
        topic = topic(env, "PAYMENTS_TOPIC");
        dlqTopic = topic(env, "PAYMENTS_DLQ_TOPIC");
        if (topic.equals(dlqTopic)) {
            throw new Problem("PAYMENTS_DLQ_TOPIC", "must differ from PAYMENTS_TOPIC");
        }
        group = required(env, "PAYMENTS_GROUP");
        dbHost = required(env, "PAYMENTS_DB_HOST");
        if (dbHost.contains("/") || dbHost.contains("?")) {
            throw new Problem("PAYMENTS_DB_HOST", "must be a host name or address, got '" + dbHost + "'");
        }
        dbPort = integer(env, "PAYMENTS_DB_PORT", 5432, 1, 65535);
        dbName = required(env, "PAYMENTS_DB_NAME");
        dbUser = required(env, "PAYMENTS_DB_USER");
        dbPassword = env.getOrDefault("PAYMENTS_DB_PASSWORD", "");
        schema = required(env, "PAYMENTS_DB_SCHEMA");
        if (!SCHEMA.matcher(schema).matches()) {
            throw new Problem("PAYMENTS_DB_SCHEMA", "'" + schema + "' is not a lower-case identifier ([a-z_][a-z0-9_]*)");
        }
        String w = env.getOrDefault("PAYMENTS_WORKER", "").strip();
        worker = w.isEmpty() ? hostName() + "-" + ProcessHandle.current().pid() : w;
        // libpq's own variable: whoever starts the sink may name its sessions (faultline does).
        String app = env.getOrDefault("PGAPPNAME", "").strip();
        appName = app.isEmpty() ? "payments-sink-" + worker : app;
        batchRecords = integer(env, "PAYMENTS_BATCH_RECORDS", 500, 1, 100_000);
        lingerMs = integer(env, "PAYMENTS_LINGER_MS", 100, 0, 60_000);
        sessionTimeoutMs = integer(env, "PAYMENTS_SESSION_TIMEOUT_MS", 10_000, 1_000, 3_600_000);
        bug = env.getOrDefault("PAYMENTS_BUG", "").strip();
        if (!bug.isEmpty() && !BUGS.contains(bug)) {
            throw new Problem("PAYMENTS_BUG", "unknown bug '" + bug + "'; known: " + String.join(", ", BUGS));
        }
    }

    /** jdbc:postgresql://host:port/db (an IPv6 address in brackets); the rest goes in Properties. */
    String jdbcUrl() {
        String host = dbHost.contains(":") && !dbHost.startsWith("[") ? "[" + dbHost + "]" : dbHost;
        return "jdbc:postgresql://" + host + ":" + dbPort + "/" + java.net.URLEncoder.encode(dbName, java.nio.charset.StandardCharsets.UTF_8);
    }

    boolean bug(String name) {
        return bug.equals(name);
    }

    private static String required(Map<String, String> env, String name) throws Problem {
        String v = env.getOrDefault(name, "").strip();
        if (v.isEmpty()) {
            throw new Problem(name, "is required");
        }
        return v;
    }

    private static String topic(Map<String, String> env, String name) throws Problem {
        String v = required(env, name);
        if (!TOPIC.matcher(v).matches()) {
            throw new Problem(name, "'" + v + "' is not a valid topic name ([A-Za-z0-9._-], 1-249 characters)");
        }
        return v;
    }

    private static int integer(Map<String, String> env, String name, int dflt, int lo, int hi) throws Problem {
        String raw = env.getOrDefault(name, "").strip();
        if (raw.isEmpty()) {
            return dflt;
        }
        long v;
        try {
            v = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw new Problem(name, "must be an integer, got '" + raw + "'");
        }
        if (v < lo || v > hi) {
            throw new Problem(name, "must be in " + lo + ".." + hi + ", got " + v);
        }
        return (int) v;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}

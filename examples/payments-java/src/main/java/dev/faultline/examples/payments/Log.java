package dev.faultline.examples.payments;

import java.time.Instant;

/** One line per message on stderr: time, worker, level, text. */
final class Log {
    private static volatile String worker = "?";

    private Log() {}

    static void worker(String w) {
        worker = w;
    }

    static void info(String msg) {
        line("INFO", msg);
    }

    static void warn(String msg) {
        line("WARN", msg);
    }

    static void error(String msg) {
        line("ERROR", msg);
    }

    private static void line(String level, String msg) {
        System.err.println(Instant.now() + " payments-sink[" + worker + "] " + level + " " + msg);
    }
}

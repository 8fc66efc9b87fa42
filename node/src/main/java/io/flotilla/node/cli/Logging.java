package io.flotilla.node.cli;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One-line log records on stderr: time, level, logger, message; JDK logging needs no dependency. */
final class Logging {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT.withZone(ZoneOffset.UTC);

    private Logging() {}

    static void configure() {
        Logger root = Logger.getLogger("");
        for (Handler handler : root.getHandlers()) {
            root.removeHandler(handler);
        }
        ConsoleHandler console = new ConsoleHandler();
        console.setLevel(Level.ALL);
        console.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                String name = r.getLoggerName() == null ? "" : r.getLoggerName();
                StringBuilder b = new StringBuilder(128)
                        .append(TIME.format(Instant.ofEpochMilli(r.getMillis())))
                        .append(' ')
                        .append(r.getLevel().getName())
                        .append(' ')
                        .append(name.substring(name.lastIndexOf('.') + 1))
                        .append(": ")
                        .append(formatMessage(r))
                        .append('\n');
                if (r.getThrown() != null) {
                    b.append("  ").append(r.getThrown()).append('\n');
                }
                return b.toString();
            }
        });
        root.addHandler(console);
        root.setLevel(Level.INFO);
    }
}

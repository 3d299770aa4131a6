// Counts wal-fetch outcomes per source across processes: one byte appended per event.
package io.zpitr.appliance.wal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Each wal-fetch is its own short process (and a spool hit is served by bash), so counters are
 * files: {@code <counters>/wal-fetch.<source>.<outcome>} grows by one byte per event, an append
 * that is atomic between processes. The launcher's fast path appends to the spool's
 * {@code .served} the same way. A counter is the file's size.
 */
public final class WalFetchCounters {
    /** A source and an outcome (ok, missing, failed). */
    public record Key(String source, String outcome) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            return (source + "\0" + outcome).compareTo(o.source + "\0" + o.outcome);
        }
    }

    private static final Pattern FILE = Pattern.compile("wal-fetch\\.([A-Za-z0-9_.-]+)\\.(ok|missing|failed)");
    private static final byte[] ONE = {'.'};

    private final Path dir;
    private final Path spool;

    public WalFetchCounters(Path dir, Path spool) {
        this.dir = dir;
        this.spool = spool;
    }

    /** Counts one event; a failure to count never fails a fetch. */
    public void count(String source, String outcome) {
        try {
            Files.createDirectories(dir);
            Files.write(
                    dir.resolve("wal-fetch." + source + "." + outcome),
                    ONE,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException | RuntimeException e) {
            // Metrics are best effort.
        }
    }

    public Map<Key, Long> read() {
        Map<Key, Long> counts = new TreeMap<>();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                for (Path f : files) {
                    var m = FILE.matcher(f.getFileName().toString());
                    if (m.matches()) {
                        counts.put(new Key(m.group(1), m.group(2)), Files.size(f));
                    }
                }
            } catch (IOException e) {
                // Unreadable counters: report what was read.
            }
        }
        try {
            Path served = spool.resolve(".served");
            if (Files.exists(served)) {
                counts.put(new Key("spool", "ok"), Files.size(served));
            }
        } catch (IOException e) {
            // As above.
        }
        return counts;
    }
}

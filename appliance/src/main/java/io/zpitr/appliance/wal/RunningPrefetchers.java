// Finds the WAL prefetchers that run on this machine for a configuration, and what each serves.
package io.zpitr.appliance.wal;

import io.zpitr.appliance.config.Settings;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSpool;
import io.zpitr.process.ProcessTrees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A prefetcher is a zpitr JVM ({@code wal-prefetch}, or a {@code wal-fetch} that stayed on) whose pid
 * is in its spool's lock file. Its spool is the configured one, or a restore's
 * ({@code ZPITR_SPOOL_DIR} in its environment); the PostgreSQL it serves is {@code ZPITR_PGDATA}
 * (set by bin/zpitr for a restore_command), when known. Reading another user's environment needs
 * root; without it the configured spool is assumed.
 */
public final class RunningPrefetchers {
    private RunningPrefetchers() {}

    /**
     * One running prefetcher.
     *
     * @param pid              its process
     * @param spool            the spool folder it fills
     * @param dataDir          the data directory of the PostgreSQL it serves, or null when not known
     * @param lastRequested    the segment that PostgreSQL asked for last, or null
     * @param systemIdentifier the cluster whose WAL it accepts, or null when not recorded
     * @param since            when it started, or null
     */
    public record Running(
            long pid, Path spool, Path dataDir, String lastRequested, String systemIdentifier, Instant since) {}

    /** The prefetchers of {@code settings}' configuration file, oldest first. */
    public static List<Running> of(Settings settings) {
        String config = settings.file().toString();
        List<Running> found = new ArrayList<>();
        for (ProcessHandle p : ProcessTrees.mentioning(config)) {
            String commandLine = p.info().commandLine().orElse("");
            if (!(commandLine.contains(" wal-prefetch") || commandLine.contains(" wal-fetch "))
                    || !commandLine.contains("--config " + config)) {
                continue;
            }
            Optional<String> spoolEnv = environment(p.pid(), "ZPITR_SPOOL_DIR");
            Path spool = spoolEnv.map(Path::of).orElse(settings.archive().spoolDir());
            if (!ProcessTrees.pidIn(spool.resolve(WalSpool.LOCK)).equals(Optional.of(p.pid()))) {
                continue; // a wal-fetch that is not (or not yet) the prefetcher
            }
            found.add(new Running(
                    p.pid(),
                    spool,
                    environment(p.pid(), WalFetchService.DATA_DIR_ENV)
                            .map(Path::of)
                            .orElse(null),
                    lastRequested(spool),
                    text(spool.resolve(WalSpool.SYSTEM_IDENTIFIER)),
                    p.info().startInstant().orElse(null)));
        }
        found.sort(java.util.Comparator.comparing(Running::pid));
        return found;
    }

    private static String lastRequested(Path spool) {
        try {
            return new WalSpool(spool).lastRequested().map(WalFileName::name).orElse(null);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String text(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return null;
        }
    }

    /** One variable of a process's environment as it started, if readable. */
    private static Optional<String> environment(long pid, String name) {
        try {
            byte[] all = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ"));
            for (String entry : new String(all, StandardCharsets.UTF_8).split("\0")) {
                if (entry.startsWith(name + "=") && entry.length() > name.length() + 1) {
                    return Optional.of(entry.substring(name.length() + 1));
                }
            }
        } catch (IOException e) {
            // not ours to read, or gone
        }
        return Optional.empty();
    }
}

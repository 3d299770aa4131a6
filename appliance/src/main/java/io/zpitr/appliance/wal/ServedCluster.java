// Tells a prefetcher when the PostgreSQL it serves is gone: stopped, or out of recovery (promoted).
package io.zpitr.appliance.wal;

import io.zpitr.process.ProcessTrees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The data directory a prefetcher serves, watched from outside PostgreSQL: it is served while its
 * postmaster ({@code postmaster.pid}'s first line) runs and it is in recovery ({@code standby.signal}
 * or {@code recovery.signal}, or {@code recovery.conf} before PostgreSQL 12). A postmaster not
 * (yet) seen is given {@link #START_GRACE}: a restore starts its prefetcher before PostgreSQL. One
 * started for a restore_command ({@link #RUNNING_ENV}) has seen it: PostgreSQL ran that command, so
 * it is gone as soon as it is not running (a server stopped before the prefetcher's JVM came up
 * kept one alive for a minute).
 */
final class ServedCluster {
    static final Duration START_GRACE = Duration.ofSeconds(60);
    /**
     * "1" when PostgreSQL was seen running in {@link WalFetchService#DATA_DIR_ENV}: set by bin/zpitr
     * for a restore_command, and by {@link PrefetcherProcess#startIfIdle} for the prefetcher it starts.
     */
    static final String RUNNING_ENV = "ZPITR_PGDATA_RUNNING";

    private static final List<String> RECOVERY_FILES = List.of("standby.signal", "recovery.signal", "recovery.conf");

    private final Path dataDir;
    private final long startedNanos = System.nanoTime();
    private boolean seenRunning;

    ServedCluster(Path dataDir) {
        this(dataDir, false);
    }

    /** @param seenRunning whether its PostgreSQL is known to have run since this process started */
    ServedCluster(Path dataDir, boolean seenRunning) {
        this.dataDir = dataDir;
        this.seenRunning = seenRunning;
    }

    /** The data directory PostgreSQL ran restore_command in, as bin/zpitr passes it, if any. */
    static Optional<ServedCluster> fromEnvironment() {
        String given = System.getenv(WalFetchService.DATA_DIR_ENV);
        if (given == null || given.isBlank() || !Files.isRegularFile(Path.of(given, "global", "pg_control"))) {
            return Optional.empty();
        }
        return Optional.of(new ServedCluster(Path.of(given), "1".equals(System.getenv(RUNNING_ENV))));
    }

    Path dataDir() {
        return dataDir;
    }

    /** Why there is nothing left to serve, or empty while PostgreSQL runs in recovery there (or may yet start). */
    synchronized Optional<String> gone() {
        if (!running()) {
            if (seenRunning || System.nanoTime() - startedNanos > START_GRACE.toNanos()) {
                return Optional.of("PostgreSQL in " + dataDir + " is not running");
            }
            return Optional.empty();
        }
        seenRunning = true;
        return inRecovery()
                ? Optional.empty()
                : Optional.of("PostgreSQL in " + dataDir + " has left recovery (promoted)");
    }

    /** Whether PostgreSQL runs there in recovery right now: there is something to prefetch for. */
    boolean servedNow() {
        return running() && inRecovery();
    }

    /** Whether its postmaster runs (in recovery or not). */
    boolean running() {
        Optional<Long> pid = ProcessTrees.pidIn(dataDir.resolve("postmaster.pid"));
        return pid.isPresent() && ProcessTrees.alive(pid.get());
    }

    private boolean inRecovery() {
        return RECOVERY_FILES.stream().anyMatch(f -> Files.exists(dataDir.resolve(f)));
    }
}

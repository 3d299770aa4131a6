// The daemon's part of prefetch: keep the standby's prefetcher running while PostgreSQL reads the archive.
package io.zpitr.appliance.wal;

import io.zpitr.appliance.config.Settings;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSegments;
import io.zpitr.archive.WalSpool;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * docs/design.md: "the daemon and restore fill a spool with the next segments". The standby's own
 * restore_command starts a prefetcher on its first miss, and PostgreSQL's asking keeps it alive;
 * the daemon restarts one whenever PostgreSQL asked within {@link #RECENT} and none holds the
 * spool (after a crash, a kill, or a restart of the standby between its asks), so that the next
 * ask finds its segment spooled instead of paying for a JVM. It starts nothing for a standby that
 * streams (restore_command not called lately) and never creates the spool: wal-fetch, running as
 * PostgreSQL's user, does that.
 */
public final class StandbyPrefetch {
    /** A standby that used restore_command this recently is taken to be reading the archive. */
    public static final Duration RECENT = Duration.ofMinutes(10);

    private StandbyPrefetch() {}

    /**
     * Starts the spool's prefetcher as the standby's OS user when it is wanted and not running.
     *
     * @return what was done, for the daemon's log; empty when nothing was
     */
    public static Optional<String> keep(Settings settings, ProcessRunner runner, Clock clock) throws IOException {
        Path dir = settings.archive().spoolDir();
        if (settings.archive().prefetch() == 0 || !Files.isDirectory(dir)) {
            return Optional.empty();
        }
        WalSpool spool = new WalSpool(dir);
        Optional<WalFileName> requested = spool.lastRequested();
        Optional<Instant> asked = spool.requestedAt().map(java.nio.file.attribute.FileTime::toInstant);
        if (requested.isEmpty()
                || asked.isEmpty()
                || asked.get().isBefore(clock.instant().minus(RECENT))
                || !PrefetcherProcess.idle(spool)) {
            return Optional.empty();
        }
        Optional<Path> dataDir = settings.postgres().dataDir();
        if (dataDir.isPresent() && !new ServedCluster(dataDir.get()).servedNow()) {
            return Optional.empty(); // the standby is not running, or no longer in recovery: nothing to serve
        }
        String osUser = settings.postgres().osUser();
        PrefetcherProcess.startIfIdle(
                runner,
                spool,
                settings.file(),
                WalSegments.DEFAULT_SIZE,
                Optional.of(osUser),
                Optional.empty(),
                PrefetcherProcess.launcher(),
                dataDir);
        return Optional.of("started the WAL prefetcher for " + dir + " as " + osUser + ": PostgreSQL asked for "
                + requested.get() + " at " + asked.get());
    }
}

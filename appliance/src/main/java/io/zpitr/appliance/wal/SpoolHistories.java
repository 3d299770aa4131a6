// Before a restore promotes: the timeline history files PostgreSQL is about to ask for, answered ahead.
package io.zpitr.appliance.wal;

import io.zpitr.appliance.config.Settings;
import io.zpitr.archive.WalFetcher;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSpool;
import io.zpitr.archive.WalVerifier;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When recovery ends, PostgreSQL restores its timeline's history file and looks for the next
 * timelines' (to pick a free one), each a restore_command call. Near the archive's end the
 * prefetcher has answered those already (missing marks); a restore stopped at a target inside the
 * archive has not, and each call would start a JVM. So before the restore resumes replay to
 * promote, this asks the sources once: a history file found is spooled (the launcher serves it by
 * copy), the first one missing is marked missing (the launcher answers "not found" for a second).
 */
public final class SpoolHistories {
    private static final Logger LOG = LoggerFactory.getLogger(SpoolHistories.class);
    private static final int TIMELINES_AHEAD = 8;

    private SpoolHistories() {
    }

    /**
     * @param osUser the user whose restore_command reads the spool (its files are handed to it), or empty
     */
    public static void prime(Settings settings, Path spoolDir, long timeline, Optional<String> osUser, ProcessRunner runner) {
        try (WalFetcher fetcher = new WalFetcher(ArchiveSources.open(settings), new WalVerifier())) {
            WalSpool spool = new WalSpool(spoolDir);
            for (long t = timeline; t <= timeline + TIMELINES_AHEAD; t++) {
                WalFileName name = WalFileName.of(String.format("%08X.history", t));
                WalFetcher.Outcome outcome = fetcher.fetch(name, spoolDir.resolve(name.name()));
                if (outcome.status() == WalFetcher.Status.MISSING) {
                    spool.markMissing(name, Instant.now());
                    if (t > timeline) {
                        break;  // PostgreSQL stops at the first timeline without a history file
                    }
                } else if (outcome.status() != WalFetcher.Status.FETCHED) {
                    break;      // no answer: PostgreSQL's own calls will ask (and report) again
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("could not ask for the timeline history files ahead: {}", e.toString());
        }
        osUser.ifPresent(user -> runner.run(Command.of("chown", "-R", user + ":", spoolDir.toString())));
    }
}

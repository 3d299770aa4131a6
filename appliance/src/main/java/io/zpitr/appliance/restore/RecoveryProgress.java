// Reads a restored server's log as it grows and tells where its recovery stands, without connecting to it.
package io.zpitr.appliance.restore;

import java.util.Optional;

/**
 * What the server log of a restored instance says about its recovery, fed line by line. Watching
 * the log, rather than connecting, is how a restore waits: a connection attempt before the clone is
 * consistent leaves a {@code FATAL: the database system is starting up} line in that very log every
 * time, and after promotion the recovery functions raise errors. The messages matched are
 * PostgreSQL's own (the restored instance runs with {@code lc_messages = 'C'} and its log on
 * stderr), the same from 11 to 18 except where noted.
 */
public final class RecoveryProgress {
    /** Where recovery stands. */
    public enum Phase {
        /** Started; not consistent yet. */
        STARTING,
        /** Consistent, replaying (read-only connections are accepted). */
        REPLAYING,
        /** Stopped at the target and paused there ({@code recovery_target_action = pause}). */
        PAUSED_AT_TARGET,
        /** Recovery is over: the server accepts read-write connections. */
        PROMOTED,
        /** PostgreSQL 13+ stops with a FATAL when WAL ended before the target. */
        ENDED_BEFORE_TARGET
    }

    private Phase phase = Phase.STARTING;
    private String stoppedAt;
    private String lastRestored;
    private int restored;
    private String lastError;
    private boolean startupSyncStarted;
    private boolean recoveryStarted;

    /** Takes one complete line of the server log. */
    public void accept(String line) {
        if (line.contains("restored log file \"")) {
            int start = line.indexOf("restored log file \"") + "restored log file \"".length();
            int end = line.indexOf('"', start);
            if (end > start) {
                String file = line.substring(start, end);
                if (!file.endsWith(".history")) {
                    lastRestored = file;
                    restored++;
                }
            }
        } else if (line.contains("recovery stopping")) {
            stoppedAt = line.substring(line.indexOf("recovery stopping")).strip();
        } else if (line.contains("pausing at the end of recovery") || line.contains("recovery has paused")) {
            // 13 and later say the first at a target; 11 and 12 the second.
            if (stoppedAt != null && phase != Phase.PROMOTED) {
                phase = Phase.PAUSED_AT_TARGET;
            }
        } else if (line.contains("recovery ended before configured recovery target was reached")) {
            phase = Phase.ENDED_BEFORE_TARGET;
        } else if (line.contains("database system is ready to accept connections")) {
            phase = Phase.PROMOTED;
        } else if (line.contains("database system is ready to accept read-only connections")
                || line.contains("consistent recovery state reached")) {
            if (phase == Phase.STARTING) {
                phase = Phase.REPLAYING;
            }
        } else if (line.contains("syncing data directory")) {
            startupSyncStarted = true;
        } else if (line.contains("starting point-in-time recovery") || line.contains("starting archive recovery")) {
            recoveryStarted = true;
        }
        if (line.contains("FATAL:") || line.contains("PANIC:")) {
            lastError = line.strip();
        }
    }

    public Phase phase() {
        return phase;
    }

    /** PostgreSQL's "recovery stopping ..." line, once it has stopped at a target. */
    public Optional<String> stoppedAt() {
        return Optional.ofNullable(stoppedAt);
    }

    /** The last WAL segment restored from the archive. */
    public Optional<String> lastRestored() {
        return Optional.ofNullable(lastRestored);
    }

    /** How many WAL segments were restored from the archive so far. */
    public int restoredSegments() {
        return restored;
    }

    /** The last FATAL or PANIC line, if any. */
    public Optional<String> lastError() {
        return Optional.ofNullable(lastError);
    }

    public boolean startupSyncStarted() {
        return startupSyncStarted;
    }

    /** The startup process has said it begins archive recovery: its signal handlers are in place. */
    public boolean recoveryStarted() {
        return recoveryStarted;
    }

    /**
     * It reached its target: it said where it stopped (a promotion asked for early ends the pause
     * at once, so a server may be promoted by the time its log is read).
     */
    public boolean reachedTarget() {
        return stoppedAt != null;
    }
}

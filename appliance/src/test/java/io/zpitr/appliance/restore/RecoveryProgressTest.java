package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The phases read from recorded PostgreSQL server log lines (11 and 15 wording). */
class RecoveryProgressTest {
    private static RecoveryProgress feed(String... lines) {
        RecoveryProgress p = new RecoveryProgress();
        for (String l : lines) {
            p.accept(l);
        }
        return p;
    }

    @Test
    void pausedAtATargetOnPostgres15() {
        RecoveryProgress p = feed(
                "2026-12-02 20:01:15.100 UTC [10] LOG:  starting point-in-time recovery to 2026-12-02 20:01:17.5+00",
                "2026-12-02 20:01:15.200 UTC [10] LOG:  restored log file \"000000010000000000000002\" from archive",
                "2026-12-02 20:01:15.300 UTC [10] LOG:  consistent recovery state reached at 0/3000000",
                "2026-12-02 20:01:15.310 UTC [9] LOG:  database system is ready to accept read-only connections",
                "2026-12-02 20:01:15.400 UTC [10] LOG:  restored log file \"000000010000000000000003\" from archive",
                "2026-12-02 20:01:15.500 UTC [10] LOG:  restored log file \"00000002.history\" from archive");
        assertEquals(RecoveryProgress.Phase.REPLAYING, p.phase());
        assertEquals(2, p.restoredSegments(), "history files are not segments");
        assertEquals(Optional.of("000000010000000000000003"), p.lastRestored());
        p.accept(
                "2026-12-02 20:01:15.600 UTC [10] LOG:  recovery stopping before commit of transaction 731, time 2026-12-02 20:01:18.1+00");
        assertEquals(RecoveryProgress.Phase.REPLAYING, p.phase(), "not paused until it says so");
        p.accept("2026-12-02 20:01:15.610 UTC [10] LOG:  pausing at the end of recovery");
        assertEquals(RecoveryProgress.Phase.PAUSED_AT_TARGET, p.phase());
        assertEquals(
                Optional.of("recovery stopping before commit of transaction 731, time 2026-12-02 20:01:18.1+00"),
                p.stoppedAt());
        p.accept("2026-12-02 20:01:16.000 UTC [10] LOG:  received promote request");
        p.accept("2026-12-02 20:01:16.200 UTC [9] LOG:  database system is ready to accept connections");
        assertEquals(RecoveryProgress.Phase.PROMOTED, p.phase());
    }

    @Test
    void pausedAtATargetOnPostgres11() {
        RecoveryProgress p = feed(
                "2026-12-02 20:01:15.600 UTC [10] LOG:  recovery stopping after reaching consistency",
                "2026-12-02 20:01:15.610 UTC [10] LOG:  recovery has paused",
                "2026-12-02 20:01:15.610 UTC [10] HINT:  Execute pg_wal_replay_resume() to continue.");
        assertEquals(RecoveryProgress.Phase.PAUSED_AT_TARGET, p.phase());
    }

    @Test
    void theEndOfTheArchiveBeforeTheTarget() {
        RecoveryProgress p = feed(
                "2026-12-02 20:01:15.600 UTC [10] FATAL:  recovery ended before configured recovery target was reached");
        assertEquals(RecoveryProgress.Phase.ENDED_BEFORE_TARGET, p.phase());
        assertEquals(true, p.lastError().isPresent());
    }

    @Test
    void latestPromotesByItselfWithoutAStopLine() {
        RecoveryProgress p = feed(
                "2026-12-02 20:01:15.300 UTC [10] LOG:  redo done at 0/5000060",
                "2026-12-02 20:01:15.400 UTC [10] LOG:  archive recovery complete",
                "2026-12-02 20:01:15.500 UTC [9] LOG:  database system is ready to accept connections");
        assertEquals(RecoveryProgress.Phase.PROMOTED, p.phase());
        assertEquals(Optional.empty(), p.stoppedAt());
    }

    @Test
    void aPromotionAskedForEarlyEndsThePauseAtOnce() {
        RecoveryProgress p =
                feed("2026-12-03 13:40:00.100 UTC [10] LOG:  database system was interrupted while in recovery");
        assertEquals(false, p.recoveryStarted(), "not before the startup process says it starts recovery");
        p.accept("2026-12-03 13:40:00.200 UTC [10] LOG:  starting point-in-time recovery to earliest consistent point");
        assertEquals(true, p.recoveryStarted());
        assertEquals(false, p.reachedTarget());
        p.accept("2026-12-03 13:40:00.400 UTC [10] LOG:  recovery stopping after reaching consistency");
        p.accept("2026-12-03 13:40:00.401 UTC [10] LOG:  pausing at the end of recovery");
        p.accept("2026-12-03 13:40:00.402 UTC [10] LOG:  received promote request");
        p.accept("2026-12-03 13:40:00.450 UTC [9] LOG:  database system is ready to accept connections");
        assertEquals(RecoveryProgress.Phase.PROMOTED, p.phase());
        assertEquals(true, p.reachedTarget(), "promoted at its target, not at the end of WAL");
    }
}

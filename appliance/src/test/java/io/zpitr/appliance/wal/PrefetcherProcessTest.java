package io.zpitr.appliance.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.archive.WalSpool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stopping a spool's prefetcher, with real processes whose command line says wal-prefetch (bash
 * with that $0): restore-drop removes the spool right after, so stop must wait until the
 * prefetcher has really ended.
 */
class PrefetcherProcessTest {
    @TempDir
    Path spool;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(Process::destroyForcibly);
    }

    /** bash running {@code script}, "wal-prefetch" on its command line (as its $0), its pid in the spool's lock. */
    private Process prefetcher(String script) throws Exception {
        Process p = start(script, "wal-prefetch");
        Files.writeString(spool.resolve(WalSpool.LOCK), p.pid() + "\n");
        // Until bash has set its trap, TERM would end it at once.
        for (int i = 0; i < 100 && !Files.exists(spool.resolve("ready")); i++) {
            Thread.sleep(20);
        }
        assertTrue(Files.exists(spool.resolve("ready")), "the stand-in prefetcher started");
        return p;
    }

    private Process start(String script, String name) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", script, name)
                .directory(spool.toFile())
                .inheritIO()
                .start();
        started.add(p);
        return p;
    }

    @Test
    void waitsUntilThePrefetcherHasEndedSoNothingIsWrittenAfterwards() throws Exception {
        // On TERM it goes on writing into the spool for a while, as a worker finishing a segment does.
        Process p = prefetcher("trap \"sleep 0.5; echo late > written-on-term; exit 0\" TERM; touch ready; "
                + "while :; do sleep 0.05; done");
        assertTrue(PrefetcherProcess.stop(spool, Duration.ofSeconds(10)));
        assertFalse(p.isAlive(), "gone when stop returns");
        assertEquals(
                "late\n",
                Files.readString(spool.resolve("written-on-term")),
                "its last write came before stop returned");
    }

    @Test
    void killsAPrefetcherThatIgnoresTermAfterTheGrace() throws Exception {
        Process p = prefetcher("trap \"\" TERM; touch ready; while :; do sleep 0.05; done");
        long start = System.nanoTime();
        assertTrue(PrefetcherProcess.stop(spool, Duration.ofMillis(500)));
        assertFalse(p.isAlive());
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(500), "TERM got its grace first");
    }

    @Test
    void leavesAProcessThatIsNoPrefetcherAlone() throws Exception {
        // A stale lock whose pid now belongs to something else.
        Process other = start("sleep 30", "bash");
        Files.writeString(spool.resolve(WalSpool.LOCK), other.pid() + "\n");
        assertFalse(PrefetcherProcess.stop(spool, Duration.ofSeconds(1)));
        assertTrue(other.isAlive());
    }

    @Test
    void aSpoolWithoutLockOrPidHasNothingToStop() throws Exception {
        assertFalse(PrefetcherProcess.stop(spool, Duration.ofSeconds(1)));
        Files.writeString(spool.resolve(WalSpool.LOCK), "");
        assertFalse(PrefetcherProcess.stop(spool, Duration.ofSeconds(1)));
    }
}

package io.zpitr.appliance.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/zpitr wal-fetch} as PostgreSQL runs it, answered by the launcher's bash fast path from
 * the spool (no JVM), or passed on to the JVM when the spool cannot answer. The launcher's trace
 * ({@code ZPITR_TRACE_FILE}) says which path answered.
 */
class LauncherFastPathIT {
    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final String SEGMENT = "000000010000000000000007";
    static final String NEXT = "000000010000000000000008";
    final ProcessRunner runner = new ProcessRunner();

    @TempDir
    Path root;

    Path spool;
    Path config;
    Path pgWal;
    Path trace;

    @BeforeEach
    void spoolAndConfig() throws IOException {
        Path home = Path.of("/tmp/zpitr-"
                + runner.run(Command.of("id", "-u")).requireSuccess().stdout().strip());
        if (!Files.isDirectory(home)) {
            Files.createDirectories(
                    home, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        spool = Files.createDirectories(root.resolve("state/spool"));
        pgWal = Files.createDirectories(root.resolve("pgdata/pg_wal"));
        trace = root.resolve("trace");
        Path archive = Files.createDirectories(root.resolve("archive"));
        config = root.resolve("zpitr.yaml");
        Files.writeString(
                config,
                "state_dir: " + root.resolve("state") + "\n"
                        + "archive:\n  prefetch: 2\n  sources:\n    - {name: nfs, type: local, path: " + archive
                        + "}\n");
    }

    @AfterEach
    void stopStayingPrefetcher() {
        WalLab.stopZpitrProcesses(config);
    }

    private ProcessResult walFetch(String file) {
        return walFetch(file, true);
    }

    /** @param builtins whether the launcher may load ln and rm as bash builtins (bash-builtins) */
    private ProcessResult walFetch(String file, boolean builtins) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("ZPITR_SPOOL_DIR", spool.toString());
        if (!builtins) {
            env.put("ZPITR_LOADABLES", "0");
        }
        env.put("ZPITR_TRACE_FILE", trace.toString());
        // As PostgreSQL calls it: from the data directory, %p relative to it.
        return runner.run(Command.of(
                        "bash",
                        "-c",
                        "cd \"$1\" && exec \"$2\" --config \"$3\" wal-fetch \"$4\" pg_wal/RECOVERYXLOG",
                        "sh",
                        pgWal.getParent().toString(),
                        LAUNCHER.toString(),
                        config.toString(),
                        file)
                .environment(env)
                .timeout(Duration.ofMinutes(2)));
    }

    private List<String> traceLines() throws IOException {
        return Files.exists(trace) ? Files.readAllLines(trace) : List.of();
    }

    private static byte[] bytes(long seed) {
        byte[] b = new byte[1 << 20];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void aFreshMissingMarkIsAnsweredNotFoundWithoutAJvm() throws IOException {
        Files.writeString(spool.resolve(".missing-" + SEGMENT), Instant.now().toEpochMilli() + "\n");

        ProcessResult r = walFetch(SEGMENT);

        assertEquals(1, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains(SEGMENT + " not found on any source that answered"), r.stderr());
        assertTrue(
                traceLines().get(0).startsWith("miss " + SEGMENT + " "),
                traceLines().toString());
        assertFalse(Files.exists(pgWal.resolve("RECOVERYXLOG")));
    }

    @Test
    void aStaleMissingMarkGoesToTheSourcesWhichRenewIt() throws IOException {
        long stale = Instant.now().minusSeconds(5).toEpochMilli();
        Files.writeString(spool.resolve(".missing-" + SEGMENT), stale + "\n");

        ProcessResult r = walFetch(SEGMENT);

        assertEquals(1, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains("nfs: " + SEGMENT + " not found"), r.stderr());
        assertTrue(
                traceLines().get(0).startsWith("jvm " + SEGMENT + " "),
                traceLines().toString());
        long renewed = Long.parseLong(
                Files.readString(spool.resolve(".missing-" + SEGMENT)).strip());
        assertTrue(renewed > stale);
        assertFalse(Files.exists(pgWal.resolve("RECOVERYXLOG")));
    }

    @Test
    void aMissingHistoryFileIsAnsweredQuietly() throws IOException {
        Files.writeString(
                spool.resolve(".missing-00000002.history"), Instant.now().toEpochMilli() + "\n");
        ProcessResult r = walFetch("00000002.history");
        assertEquals(1, r.exitCode());
        assertEquals("", r.stderr());
        assertTrue(traceLines().get(0).startsWith("miss 00000002.history "));
    }

    @Test
    void aSpooledSegmentOnTheSameFileSystemIsMovedIntoPlace() throws IOException {
        byte[] content = bytes(7);
        Files.write(spool.resolve(SEGMENT), content);
        Files.write(spool.resolve(NEXT), bytes(11)); // the archive goes on: this one is read once

        ProcessResult r = walFetch(SEGMENT);

        assertEquals(0, r.exitCode(), r.stderr());
        assertArrayEquals(content, Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
        assertFalse(Files.exists(spool.resolve(SEGMENT)), "taken out of the spool under its own name");
        // A restore's spool (ZPITR_SPOOL_DIR) keeps a second link for the end of recovery: the only
        // other name of that file.
        assertEquals(2, Files.getAttribute(pgWal.resolve("RECOVERYXLOG"), "unix:nlink"));
        assertArrayEquals(content, Files.readAllBytes(spool.resolve(".kept-" + SEGMENT)));
        assertEquals(SEGMENT, Files.readString(spool.resolve(".requested")).strip());
        assertTrue(traceLines().get(0).startsWith("fast " + SEGMENT + " "));
        try (var files = Files.list(pgWal)) {
            assertEquals(
                    List.of("RECOVERYXLOG"),
                    files.map(p -> p.getFileName().toString()).toList(),
                    "no temporary left");
        }
    }

    @Test
    void withoutBashBuiltinsTheSameHandOverRunsAsPrograms() throws IOException {
        // scripts/test installs bash-builtins: every other test here hands over with ln and rm as
        // builtins. Without them (or with ZPITR_LOADABLES=0) the launcher runs ln, rm and mv.
        assertTrue(Files.isReadable(Path.of("/usr/lib/bash/ln")), "bash-builtins installed");
        for (boolean builtins : List.of(false, true)) {
            byte[] content = bytes(builtins ? 18 : 19);
            Files.write(spool.resolve(SEGMENT), content);
            Files.write(spool.resolve(NEXT), bytes(20));

            ProcessResult r = walFetch(SEGMENT, builtins);

            assertEquals(0, r.exitCode(), r.stderr());
            assertArrayEquals(content, Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
            assertFalse(Files.exists(spool.resolve(SEGMENT)));
            assertArrayEquals(content, Files.readAllBytes(spool.resolve(".kept-" + SEGMENT)));
            assertEquals(2, Files.getAttribute(pgWal.resolve("RECOVERYXLOG"), "unix:nlink"));
            Files.delete(pgWal.resolve("RECOVERYXLOG"));
            Files.delete(spool.resolve(".kept-" + SEGMENT));
        }
        assertEquals(
                List.of("moved", "moved"),
                traceLines().stream().map(l -> l.split(" ")[3]).toList(),
                traceLines().toString());
        try (var files = Files.list(pgWal)) {
            assertEquals(List.of(), files.toList(), "no temporary left");
        }
    }

    @Test
    void aSegmentTheFeedLinkedToKeepIsMovedAndItsLinkLeftAsItWas() throws IOException {
        byte[] content = bytes(13);
        Files.write(spool.resolve(SEGMENT), content);
        Files.createLink(spool.resolve(".kept-" + SEGMENT), spool.resolve(SEGMENT)); // as RestoreWalFeed lands it
        Object linked = Files.getAttribute(spool.resolve(".kept-" + SEGMENT), "unix:ino");
        Files.write(spool.resolve(NEXT), bytes(14));

        ProcessResult r = walFetch(SEGMENT);

        assertEquals(0, r.exitCode(), r.stderr());
        assertArrayEquals(content, Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
        assertFalse(Files.exists(spool.resolve(SEGMENT)));
        assertEquals(2, Files.getAttribute(pgWal.resolve("RECOVERYXLOG"), "unix:nlink"));
        assertEquals(linked, Files.getAttribute(spool.resolve(".kept-" + SEGMENT), "unix:ino"), "the feed's link");
        assertTrue(traceLines().get(0).endsWith(" moved"), traceLines().toString());
    }

    @Test
    void aKeptLinkOfAnotherFileUnderTheSameNameIsReplaced() throws IOException {
        byte[] content = bytes(15);
        Files.write(spool.resolve(SEGMENT), content);
        Files.write(spool.resolve(".kept-" + SEGMENT), bytes(16)); // an earlier copy of that name
        Files.write(spool.resolve(NEXT), bytes(17));

        assertEquals(0, walFetch(SEGMENT).exitCode());
        Files.delete(pgWal.resolve("RECOVERYXLOG"));
        ProcessResult again = walFetch(SEGMENT);

        assertEquals(0, again.exitCode(), again.stderr());
        assertArrayEquals(content, Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")), "the segment served, again");
    }

    @Test
    void aSegmentReadAgainAtTheEndOfRecoveryComesFromItsKeptLink() throws IOException {
        byte[] content = bytes(9);
        Files.write(spool.resolve(SEGMENT), content);
        Files.write(spool.resolve(NEXT), bytes(12));
        assertEquals(0, walFetch(SEGMENT).exitCode());
        Files.delete(pgWal.resolve("RECOVERYXLOG")); // replay moved on; the spool no longer has it

        // PostgreSQL reads the segment of its last record once more when recovery ends.
        ProcessResult again = walFetch(SEGMENT);

        assertEquals(0, again.exitCode(), again.stderr());
        assertArrayEquals(content, Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
        assertEquals(
                List.of("fast", "fast"),
                traceLines().stream().map(l -> l.split(" ")[0]).toList(),
                "no JVM started for it");
        assertTrue(traceLines().get(1).endsWith(" kept"), traceLines().toString());
    }

    @Test
    void theLastSpooledSegmentIsMovedTooAndReadAgainFromItsKeptLink() throws IOException {
        byte[] content = bytes(8);
        Files.write(spool.resolve(SEGMENT), content); // and nothing after it: spooled or in flight

        for (int i = 0; i < 2; i++) {
            ProcessResult r = walFetch(SEGMENT);
            assertEquals(0, r.exitCode(), r.stderr());
            assertArrayEquals(content, Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
            Files.delete(pgWal.resolve("RECOVERYXLOG"));
        }
        // A restore's spool never copies (16 MiB more through the clone's file system): the kept
        // link answers PostgreSQL's second read of the archive's last segment.
        assertFalse(Files.exists(spool.resolve(SEGMENT)));
        assertArrayEquals(content, Files.readAllBytes(spool.resolve(".kept-" + SEGMENT)));
        assertEquals(
                List.of("moved", "kept"),
                traceLines().stream().map(l -> l.split(" ")[3]).toList(),
                traceLines().toString());
    }

    @Test
    void aSegmentWhoseSuccessorIsOnlyBeingLookedForIsKeptForTheSecondRead() throws IOException {
        byte[] content = bytes(10);
        Files.write(spool.resolve(SEGMENT), content);
        String now = Instant.now().toEpochMilli() + "\n";
        Files.writeString(spool.resolve(".inflight-" + NEXT), now); // it may turn out missing: the end

        ProcessResult r = walFetch(SEGMENT);

        assertEquals(0, r.exitCode(), r.stderr());
        assertArrayEquals(content, Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
        assertArrayEquals(content, Files.readAllBytes(spool.resolve(".kept-" + SEGMENT)), "kept for the second read");
    }

    @Test
    void aSpooledHistoryFileIsCopied() throws IOException {
        String history = "1\t0/9000000\tno recovery target specified\n";
        Files.writeString(spool.resolve("00000002.history"), history);
        ProcessResult r = walFetch("00000002.history");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(history, Files.readString(pgWal.resolve("RECOVERYXLOG")));
        assertTrue(Files.exists(spool.resolve("00000002.history")));
    }

    @Test
    void aHostileNameIsRefusedAndNothingIsWritten() throws IOException {
        Files.writeString(
                spool.resolve(".missing-..%2F..%2Fetc%2Fpasswd"), Instant.now().toEpochMilli() + "\n");
        ProcessResult r = walFetch("../../etc/passwd");
        assertEquals(2, r.exitCode(), r.stderr());
        assertFalse(Files.exists(pgWal.resolve("RECOVERYXLOG")));
    }

    @Test
    void aSegmentInFlightIsWaitedForInsteadOfFetchedAgain() throws Exception {
        byte[] content = bytes(9);
        // The prefetcher that holds the spool runs (this JVM stands in for it).
        Files.writeString(
                spool.resolve(".prefetch.lock"), ProcessHandle.current().pid() + "\n");
        Files.writeString(spool.resolve(".inflight-" + SEGMENT), Instant.now().toEpochMilli() + "\n");
        Thread prefetcher = new Thread(() -> {
            try {
                Thread.sleep(300);
                Path temp = spool.resolve(".arriving");
                Files.write(temp, content);
                Files.move(temp, spool.resolve(SEGMENT), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                Files.delete(spool.resolve(".inflight-" + SEGMENT));
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        prefetcher.start();

        ProcessResult r = walFetch(SEGMENT);
        prefetcher.join();

        assertEquals(0, r.exitCode(), r.stderr());
        assertArrayEquals(content, Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
        assertEquals(
                List.of("wait", "fast"),
                traceLines().stream().map(l -> l.split(" ")[0]).toList());
    }

    @Test
    void anInFlightMarkOfAKilledPrefetcherIsNotWaitedFor() throws Exception {
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        Files.writeString(spool.resolve(".prefetch.lock"), dead.pid() + "\n");
        Files.writeString(spool.resolve(".inflight-" + SEGMENT), Instant.now().toEpochMilli() + "\n");

        long start = System.nanoTime();
        walFetch(SEGMENT);
        long took = (System.nanoTime() - start) / 1_000_000;

        // No "wait" line: the launcher went on at once (to the JVM, which finds no source copy here).
        assertEquals(
                List.of("jvm"), traceLines().stream().map(l -> l.split(" ")[0]).toList());
        assertTrue(took < 10_000, "no 10 s wait for a dead prefetcher's mark; took " + took + " ms");
    }
}

package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrefetcherTest {
    static final long SEGMENT = 16L << 20;

    @TempDir
    Path dir;

    @Test
    void keepsTheSegmentBeforeTheRequestedOneForTheEndOfRecoveryReread() throws IOException {
        WalSpool spool = new WalSpool(dir);
        for (String n : List.of("000000010000000000000002", "000000010000000000000003", "000000010000000000000004")) {
            Files.writeString(dir.resolve(n), "x");
        }
        // No sources: every prefetch ends at once as "unavailable"; only the dropping is under test.
        Prefetcher prefetcher = new Prefetcher(
                spool,
                () -> new WalFetcher(List.of(), new WalVerifier()),
                2,
                1,
                SEGMENT,
                Duration.ofSeconds(1),
                Clock.systemUTC());
        prefetcher.fill(WalFileName.of("000000010000000000000004"));
        assertEquals(
                List.of("000000010000000000000003", "000000010000000000000004"),
                spool.segments().stream().map(WalFileName::name).toList());
    }

    @Test
    void theVeryFirstSegmentHasNoneBeforeIt() throws IOException {
        WalSpool spool = new WalSpool(dir);
        Files.writeString(dir.resolve("000000010000000000000000"), "x");
        Prefetcher prefetcher = new Prefetcher(
                spool,
                () -> new WalFetcher(List.of(), new WalVerifier()),
                1,
                1,
                SEGMENT,
                Duration.ofSeconds(1),
                Clock.systemUTC());
        prefetcher.fill(WalFileName.of("000000010000000000000000"));
        assertEquals(
                List.of("000000010000000000000000"),
                spool.segments().stream().map(WalFileName::name).toList());
    }

    @Test
    void marksInFlightOnlyWhatItsWorkersTakeOnNotTheWholeWindow() throws Exception {
        Path spoolDir = Files.createDirectories(dir.resolve("spool"));
        WalSpool spool = new WalSpool(spoolDir);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        // A source that holds every fetch until released: what is in flight stays in flight.
        WalSource held = new WalSource() {
            @Override
            public String name() {
                return "held";
            }

            @Override
            public List<WalCopy> find(WalFileName file) throws SourceUnavailableException {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return List.of();
            }

            @Override
            public void download(WalCopy copy, Path target) {}

            @Override
            public void close() {}
        };
        Prefetcher prefetcher = new Prefetcher(
                spool,
                () -> new WalFetcher(List.of(held), new WalVerifier()),
                32,
                1,
                SEGMENT,
                Duration.ofSeconds(1),
                Clock.systemUTC());
        try {
            prefetcher.fill(WalFileName.of("000000010000000000000004"));
            prefetcher.fill(WalFileName.of("000000010000000000000004"));
            // One fetching and one waiting behind it, not 32 marks made at once in the spool.
            List<String> marks;
            try (var files = Files.list(spoolDir)) {
                marks = files.map(f -> f.getFileName().toString())
                        .filter(n -> n.startsWith(WalSpool.IN_FLIGHT))
                        .sorted()
                        .toList();
            }
            assertEquals(
                    List.of(
                            WalSpool.IN_FLIGHT + "000000010000000000000005",
                            WalSpool.IN_FLIGHT + "000000010000000000000006"),
                    marks);
        } finally {
            release.countDown();
            prefetcher.stop();
            // The workers' last step is clearing their marks: none left, nothing writes in the folder.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (inFlightMarks(spoolDir) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
    }

    private static long inFlightMarks(Path spoolDir) throws IOException {
        try (var files = Files.list(spoolDir)) {
            return files.filter(f -> f.getFileName().toString().startsWith(WalSpool.IN_FLIGHT))
                    .count();
        }
    }

    /** An archive folder that has nothing: every fetch from it ends "missing". */
    private Prefetcher overEmptyArchive(WalSpool spool, int depth) throws IOException {
        return overEmptyArchive(spool, depth, Duration.ofMillis(300));
    }

    private Prefetcher overEmptyArchive(WalSpool spool, int depth, Duration idleExit) throws IOException {
        Path archive = Files.createDirectories(dir.resolve("archive-empty"));
        return new Prefetcher(
                spool,
                () -> new WalFetcher(List.of(new LocalDirectorySource("nfs", archive)), new WalVerifier()),
                depth,
                2,
                SEGMENT,
                idleExit,
                Clock.systemUTC());
    }

    /** Calls fill until {@code done} holds (the fetches run on the prefetcher's worker threads). */
    private static void fillUntil(Prefetcher prefetcher, WalFileName requested, java.util.function.BooleanSupplier done)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not reached in 10 s");
            }
            prefetcher.fill(requested);
            Thread.sleep(20);
        }
    }

    @Test
    void atTheEndOfTheArchiveMarksTheNextSegmentAndTheHistoriesMissing() throws Exception {
        Path spoolDir = Files.createDirectories(dir.resolve("spool"));
        WalSpool spool = new WalSpool(spoolDir);
        Files.writeString(spoolDir.resolve("000000010000000000000004"), "x");
        Prefetcher prefetcher = overEmptyArchive(spool, 2);
        WalFileName requested = WalFileName.of("000000010000000000000004");
        WalFileName next = WalFileName.of("000000010000000000000005");
        WalFileName nextTimeline = WalFileName.of("00000002.history");
        WalFileName ownTimeline = WalFileName.of("00000001.history");
        Instant before = Instant.now().minusMillis(1);

        fillUntil(
                prefetcher,
                requested,
                () -> marked(spool, next) && marked(spool, nextTimeline) && marked(spool, ownTimeline));

        assertTrue(spool.missingSince(next).orElseThrow().isAfter(before));
        // The launcher reads the mark as digits of epoch milliseconds.
        // (and, on a second line, for how many milliseconds the answer stands).
        List<String> mark = Files.readAllLines(spoolDir.resolve(WalSpool.MISSING + next.name()));
        assertTrue(mark.get(0).matches("[0-9]{13}") && mark.get(1).matches("[0-9]{4}"), mark.toString());
        // Nothing beyond the end is asked for until the end moves.
        assertFalse(marked(spool, WalFileName.of("000000010000000000000007")));
    }

    @Test
    void keepsAMissingMarkFreshWhileTheEndLasts() throws Exception {
        Path spoolDir = Files.createDirectories(dir.resolve("spool"));
        WalSpool spool = new WalSpool(spoolDir);
        WalFileName requested = WalFileName.of("000000010000000000000005");
        Instant old = Instant.now().minusSeconds(5);
        spool.markMissing(requested, old); // a JVM fetch found it missing; PostgreSQL asks again and again
        Prefetcher prefetcher = overEmptyArchive(spool, 2);

        fillUntil(
                prefetcher,
                requested,
                () -> since(spool, requested).map(t -> t.isAfter(old)).orElse(false));
        Instant first = spool.missingSince(requested).orElseThrow();
        fillUntil(
                prefetcher,
                requested,
                () -> since(spool, requested).map(t -> t.isAfter(first)).orElse(false));
        assertTrue(
                Duration.between(first, spool.missingSince(requested).orElseThrow())
                                .compareTo(answersFor(spool, requested))
                        < 0,
                "asked again within the time the mark says it answers for");
    }

    /** How long the mark says it answers for: its second line, else WalSpool.MISSING_FRESH. */
    private static Duration answersFor(WalSpool spool, WalFileName name) throws IOException {
        List<String> lines = Files.readAllLines(spool.dir().resolve(WalSpool.MISSING + name.name()));
        return lines.size() > 1 ? Duration.ofMillis(Long.parseLong(lines.get(1))) : WalSpool.MISSING_FRESH;
    }

    @Test
    void atALastingEndItAsksLessAndLessOftenUpToAboutPostgresRetryInterval() {
        assertEquals(Duration.ofMillis(250), Prefetcher.missingRetry(0));
        assertEquals(Duration.ofMillis(500), Prefetcher.missingRetry(1));
        assertEquals(Duration.ofSeconds(2), Prefetcher.missingRetry(3));
        assertEquals(Prefetcher.MISSING_RETRY_MAX, Prefetcher.missingRetry(4));
        assertEquals(Prefetcher.MISSING_RETRY_MAX, Prefetcher.missingRetry(1000));
        assertTrue(
                Prefetcher.MISSING_RETRY_MAX.plus(Prefetcher.MARK_SLACK).compareTo(WalSpool.MISSING_FRESH_MAX) <= 0,
                "a mark always answers until the next question to the sources");
    }

    @Test
    void stopsWithinSecondsWhenItsSpoolIsGoneOrItsLockIsNoLongerItsOwn() throws Exception {
        for (boolean removeWholeSpool : new boolean[] {true, false}) {
            Path spoolDir = Files.createDirectories(dir.resolve("spool-" + removeWholeSpool));
            WalSpool spool = new WalSpool(spoolDir);
            WalFileName missing = WalFileName.of("000000010000000000000005");
            spool.recordRequested(missing);
            var lock = Prefetcher.tryLock(spool).orElseThrow();
            Prefetcher prefetcher = new Prefetcher(
                    spool,
                    () -> new WalFetcher(List.of(), new WalVerifier()),
                    2,
                    1,
                    SEGMENT,
                    Duration.ofMinutes(10),
                    Clock.systemUTC());
            Thread running = new Thread(() -> {
                try {
                    prefetcher.run();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            running.start();
            if (removeWholeSpool) {
                // Gone at once (the prefetcher may be writing a mark into it): moved away, then removed.
                Path away = Files.move(spoolDir, dir.resolve("removed"));
                long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (Files.exists(away) && System.nanoTime() < until) {
                    try {
                        io.zpitr.fixtures.Fs.deleteTree(away);
                    } catch (java.nio.file.DirectoryNotEmptyException stillWriting) {
                        Thread.onSpinWait();
                    }
                }
            } else {
                Files.delete(spoolDir.resolve(WalSpool.LOCK)); // a new spool's prefetcher may lock a new file
                Files.writeString(spoolDir.resolve(WalSpool.LOCK), "");
            }
            long start = System.nanoTime();
            running.join(10_000);
            assertFalse(
                    running.isAlive(),
                    "still running 10 s after " + (removeWholeSpool ? "its spool" : "its lock") + " went");
            assertTrue((System.nanoTime() - start) / 1_000_000 < 5_000, "stopped within a few seconds");
            lock.channel().close();
        }
    }

    @Test
    void stopsWhenWhatItServesIsGone() throws Exception {
        Path spoolDir = Files.createDirectories(dir.resolve("spool"));
        WalSpool spool = new WalSpool(spoolDir);
        spool.recordRequested(WalFileName.of("000000010000000000000005"));
        Prefetcher prefetcher = new Prefetcher(
                spool,
                () -> new WalFetcher(List.of(), new WalVerifier()),
                2,
                1,
                SEGMENT,
                Duration.ofMinutes(10),
                Clock.systemUTC());
        java.util.concurrent.atomic.AtomicBoolean standbyUp = new java.util.concurrent.atomic.AtomicBoolean(true);
        prefetcher.endWhen(() -> standbyUp.get() ? Optional.empty() : Optional.of("the standby stopped"));
        Thread running = new Thread(() -> {
            try {
                prefetcher.run();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        running.start();
        standbyUp.set(false);
        running.join(10_000);
        assertFalse(running.isAlive());
    }

    @Test
    void aStoppingPrefetcherTakesItsMarksAlong() throws Exception {
        Path spoolDir = Files.createDirectories(dir.resolve("spool"));
        WalSpool spool = new WalSpool(spoolDir);
        Files.writeString(spoolDir.resolve("000000010000000000000004"), "x");
        spool.recordRequested(WalFileName.of("000000010000000000000004"));
        overEmptyArchive(spool, 2).run(); // no new request: stops after 300 ms
        try (var files = Files.list(spoolDir)) {
            assertEquals(
                    List.of(),
                    files.map(p -> p.getFileName().toString())
                            .filter(n -> n.startsWith(WalSpool.MISSING) || n.startsWith(WalSpool.IN_FLIGHT))
                            .toList());
        }
    }

    private static boolean marked(WalSpool spool, WalFileName name) {
        return since(spool, name).isPresent();
    }

    private static Optional<Instant> since(WalSpool spool, WalFileName name) {
        try {
            return spool.missingSince(name);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void staysOnWhilePostgresKeepsAskingForTheSameMissingSegment() throws Exception {
        Path spoolDir = Files.createDirectories(dir.resolve("spool"));
        WalSpool spool = new WalSpool(spoolDir);
        WalFileName missing = WalFileName.of("000000010000000000000005");
        spool.recordRequested(missing);
        // Stops after 2 s without a request: far above the 100 ms between questions below, so a
        // stalled test thread on a loaded machine does not end it early.
        Prefetcher prefetcher = overEmptyArchive(spool, 2, Duration.ofSeconds(2));
        Thread running = new Thread(() -> {
            try {
                prefetcher.run();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        running.start();
        long asking = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        while (System.nanoTime() < asking) { // a standby asking again, as the launcher records it: 4 s in all
            Thread.sleep(100); // the pace of the questions, not a wait for anything
            spool.recordRequested(missing);
        }
        assertTrue(running.isAlive(), "still serving after 4 s of the same question (twice its idle exit)");
        running.join(10_000);
        assertFalse(running.isAlive(), "stopped once the questions stopped");
    }
}

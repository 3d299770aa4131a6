// The faults of a real archive host, done to a container: each costs its bound once, the next source serves, nothing
// foreign lands.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.archive.SshHostConfig.Transport;
import io.zpitr.fixtures.ArchiveHostContainer;
import io.zpitr.fixtures.SyntheticWal;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One archive host container ({@code host}) first in the source order, a local folder second (the
 * source that must be asked next). Each test does one fault to the host, the way it happens to a
 * real one, and checks what an operator would: the segment arrives from the next source, the
 * host's line says what went wrong, the time it cost, and whether later fetches skip the host.
 */
class ArchiveHostFaultsIT {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration IO_TIMEOUT = Duration.ofSeconds(3);
    /** What a loaded 2-core machine may add to a bound (JVM warm-up, the other tests). */
    private static final long MARGIN_MILLIS = 3000;

    private static final long CLUSTER = 7_400_000_000_000_000_001L;
    private static final long SEGMENT_SIZE = 16L << 20;
    /** The host's small disk: two segments fit, the third is cut short. */
    private static final int SMALL_DISK_MIB = 40;

    @RegisterExtension
    static ArchiveHostContainer host = new ArchiveHostContainer().withSmallDisk(SMALL_DISK_MIB);

    @TempDir
    Path local;

    private Path nfs;
    private Path pgWal;

    @BeforeEach
    void folders() throws Exception {
        nfs = Files.createDirectories(local.resolve("nfs"));
        pgWal = Files.createDirectories(local.resolve("pg_wal"));
        Files.createDirectories(host.archiveDir());
    }

    @AfterEach
    void healTheHost() throws Exception {
        host.unpause();
        try (Stream<Path> files = Files.list(host.archiveDir().getParent())) {
            if (files.noneMatch(p -> p.equals(host.archiveDir()))) {
                Files.createDirectories(host.archiveDir());
            }
        }
    }

    /** A fetcher as one wal-fetch process builds it: the host first, the local folder second. */
    private WalFetcher process(Transport transport) {
        return process(transport, host.archivePath());
    }

    /** The same, with the host's archive at {@code path}. */
    private WalFetcher process(Transport transport, String path) {
        SshHostConfig config = new SshHostConfig(
                "host",
                host.address(),
                ArchiveHostContainer.PORT,
                ArchiveHostContainer.USER,
                path,
                host.identityFile(),
                host.knownHostsFile(),
                List.of(transport),
                CONNECT_TIMEOUT,
                IO_TIMEOUT);
        HostReachability reachability =
                new HostReachability(local.resolve("state"), Duration.ofSeconds(60), Clock.systemUTC());
        return new WalFetcher(
                List.of(
                        new SshSource(config, reachability, new ProcessRunner(), local.resolve("scratch")),
                        new LocalDirectorySource("nfs", nfs)),
                WalVerifier.forCluster(CLUSTER));
    }

    private void onBoth(String name, long size, boolean filled) throws Exception {
        SyntheticWal.segment(host.archiveDir().resolve(name), name, CLUSTER, size, filled);
        Files.copy(host.archiveDir().resolve(name), nfs.resolve(name));
    }

    private Path downRecord() {
        return local.resolve("state").resolve("down").resolve(host.address() + "_" + ArchiveHostContainer.PORT);
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static void assertLine(WalFetcher.Outcome outcome, int index, String expected) {
        assertTrue(
                outcome.lines().size() > index && outcome.lines().get(index).contains(expected),
                "line " + index + " should contain '" + expected + "': " + outcome.lines());
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aHungHostCostsTheFirstFetchOneConnectTimeoutAndLaterOnesNothing(Transport transport) throws Exception {
        onBoth("000000010000000000000011", SEGMENT_SIZE, false);
        onBoth("000000010000000000000012", SEGMENT_SIZE, false);
        host.pause();

        long start = System.nanoTime();
        try (WalFetcher first = process(transport)) {
            WalFetcher.Outcome outcome = first.fetch(WalFileName.of("000000010000000000000011"), pgWal.resolve("a"));
            long took = millisSince(start);
            assertEquals(
                    WalFetcher.Status.FETCHED, outcome.status(), outcome.lines().toString());
            assertLine(
                    outcome, 0, transport == Transport.SFTP ? "sent no SSH banner within 1000 ms" : "the host stalled");
            assertLine(outcome, 1, "nfs: fetched ");
            assertTrue(took < CONNECT_TIMEOUT.toMillis() + MARGIN_MILLIS, "first fetch took " + took + " ms");
        }
        assertTrue(Files.exists(downRecord()), "the hung host is remembered as down");

        start = System.nanoTime();
        try (WalFetcher next = process(transport)) {
            WalFetcher.Outcome outcome = next.fetch(WalFileName.of("000000010000000000000012"), pgWal.resolve("b"));
            long took = millisSince(start);
            assertEquals(
                    WalFetcher.Status.FETCHED, outcome.status(), outcome.lines().toString());
            assertLine(outcome, 0, "host is skipped without trying");
            assertTrue(took < 1000, "a remembered hung host costs nothing; the next fetch took " + took + " ms");
        }
    }

    @Test
    void aHostThatHangsInTheMiddleOfATransferFailsThatFileAndTheNextSourceServesIt() throws Exception {
        // Large enough that the transfer is surely under way when the pause lands: 128 MiB of real bytes.
        String name = "000000010000000000000019"; // at most 1F with 128 MiB segments
        onBoth(name, 128L << 20, true);
        AtomicLong bytesWhenPaused = new AtomicLong(-1);
        Thread pauser = new Thread(
                () -> {
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (System.nanoTime() < deadline
                            && !Thread.currentThread().isInterrupted()) {
                        long size = partialSize();
                        if (size > 0) {
                            host.pause();
                            bytesWhenPaused.set(size);
                            return;
                        }
                        Thread.onSpinWait();
                    }
                },
                "pause-mid-transfer");
        pauser.start();
        long start = System.nanoTime();
        try (WalFetcher fetcher = process(Transport.SFTP)) {
            WalFetcher.Outcome outcome = fetcher.fetch(WalFileName.of(name), pgWal.resolve(name));
            long took = millisSince(start);
            pauser.join(10_000);
            assertTrue(
                    bytesWhenPaused.get() > 0 && bytesWhenPaused.get() < (128L << 20),
                    "paused mid-transfer, at " + bytesWhenPaused.get() + " bytes");
            assertEquals(
                    WalFetcher.Status.FETCHED, outcome.status(), outcome.lines().toString());
            assertLine(outcome, 0, "the host stalled (nothing for 3000 ms)");
            assertLine(outcome, 1, "nfs: fetched ");
            assertTrue(took < IO_TIMEOUT.toMillis() + 2 * MARGIN_MILLIS, "the stalled fetch took " + took + " ms");
        } finally {
            pauser.interrupt();
        }
        assertTrue(Files.exists(downRecord()), "a host that stalled is remembered as down");
        assertEquals(Files.size(nfs.resolve(name)), Files.size(pgWal.resolve(name)));
    }

    /** The size of the download in progress (AtomicLanding's temporary file beside the destination), or 0. */
    private long partialSize() {
        try (Stream<Path> files = Files.list(pgWal)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".tmp"))
                    .mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (java.io.IOException e) {
                            return 0;
                        }
                    })
                    .max()
                    .orElse(0);
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void anotherClustersSegmentOnTheHostIsNeverDeliveredAndTheNextSourceIsAsked(Transport transport) throws Exception {
        String name = "000000010000000000000031";
        long foreign = CLUSTER + 98;
        SyntheticWal.segment(host.archiveDir().resolve(name), name, foreign, SEGMENT_SIZE, false);
        SyntheticWal.segment(nfs.resolve(name), name, CLUSTER, SEGMENT_SIZE, false);
        try (WalFetcher fetcher = process(transport)) {
            WalFetcher.Outcome outcome = fetcher.fetch(WalFileName.of(name), pgWal.resolve(name));
            assertEquals(
                    WalFetcher.Status.FETCHED, outcome.status(), outcome.lines().toString());
            assertLine(outcome, 0, "host: bad copy ");
            assertLine(
                    outcome,
                    0,
                    "system identifier " + foreign + " in its long page header, but the asking" + " cluster's is "
                            + CLUSTER);
            assertLine(outcome, 1, "nfs: fetched ");
            assertEquals(
                    java.util.OptionalLong.of(CLUSTER), outcome.verification().systemIdentifier());
        }
        Files.delete(nfs.resolve(name));
        Files.delete(pgWal.resolve(name));
        try (WalFetcher fetcher = process(transport)) {
            WalFetcher.Outcome outcome = fetcher.fetch(WalFileName.of(name), pgWal.resolve(name));
            assertEquals(
                    WalFetcher.Status.ONLY_BAD_COPIES,
                    outcome.status(),
                    outcome.lines().toString());
        }
        assertTrue(Files.notExists(pgWal.resolve(name)), "a foreign copy never reaches %p");
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aStoppedHostIsRefusedAndRemembered(Transport transport) throws Exception {
        onBoth("000000010000000000000041", SEGMENT_SIZE, false);
        host.stop();
        try (WalFetcher fetcher = process(transport)) {
            WalFetcher.Outcome outcome = fetcher.fetch(WalFileName.of("000000010000000000000041"), pgWal.resolve("x"));
            assertEquals(
                    WalFetcher.Status.FETCHED, outcome.status(), outcome.lines().toString());
            assertLine(outcome, 0, "host did not accept a TCP connection (connection refused)");
            assertLine(outcome, 1, "nfs: fetched ");
        } finally {
            host.restart();
        }
        assertTrue(Files.exists(downRecord()));
    }

    @Test
    void aDeletedArchiveFolderIsAFailureOfThatHostNotAMiss() throws Exception {
        onBoth("000000010000000000000051", SEGMENT_SIZE, false);
        host.deleteArchive();
        try (WalFetcher fetcher = process(Transport.SFTP)) {
            WalFetcher.Outcome outcome = fetcher.fetch(WalFileName.of("000000010000000000000051"), pgWal.resolve("y"));
            assertEquals(
                    WalFetcher.Status.FETCHED, outcome.status(), outcome.lines().toString());
            assertLine(outcome, 0, "no such file or folder");
            assertLine(outcome, 1, "nfs: fetched ");
        }
    }

    @Test
    void aFullDiskLeftAShortSegmentOnTheHostWhichIsABadCopyOfThatHostAndTheNextSourceServesIt() throws Exception {
        List<String> names =
                List.of("000000010000000000000061", "000000010000000000000062", "000000010000000000000063");
        List<Integer> exits = new java.util.ArrayList<>();
        String lastMessage = "";
        for (String name : names) {
            onBoth(name, SEGMENT_SIZE, true); // real bytes: a sparse file would not fill the disk
            org.testcontainers.containers.Container.ExecResult cp = host.archiveOnSmallDisk(name);
            exits.add(cp.getExitCode());
            lastMessage = cp.getStderr();
        }
        assertEquals(List.of(0, 0, 1), exits, "the third segment does not fit on the host's disk: " + lastMessage);
        assertTrue(lastMessage.contains("No space left on device"), lastMessage);

        try (WalFetcher fetcher = process(Transport.SFTP, host.smallDiskArchivePath())) {
            WalFetcher.Outcome whole = fetcher.fetch(WalFileName.of(names.get(1)), pgWal.resolve("whole"));
            assertEquals(
                    WalFetcher.Status.FETCHED, whole.status(), whole.lines().toString());
            assertLine(whole, 0, "host: fetched ");

            WalFetcher.Outcome cut = fetcher.fetch(WalFileName.of(names.get(2)), pgWal.resolve("cut"));
            assertEquals(WalFetcher.Status.FETCHED, cut.status(), cut.lines().toString());
            assertLine(cut, 0, "host: bad copy ");
            assertLine(cut, 0, "size ");
            assertLine(cut, 1, "nfs: fetched ");
        }
        assertEquals(SEGMENT_SIZE, Files.size(pgWal.resolve("cut")), "the whole segment, from the next source");
        assertTrue(Files.notExists(downRecord()), "a short file is a bad copy, not a host that is down");
    }
}

// A standby's prefetcher SIGKILLed at random points while it fetches: the next wal-fetch serves, takes the spool over,
// and nothing is left.
package io.zpitr.appliance.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.cli.ZpitrProcess;
import io.zpitr.archive.WalSpool;
import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.fixtures.SshServer;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A PostgreSQL 15 standby fed only by {@code bin/zpitr wal-fetch} from an archive host (OpenSSH on
 * loopback). While the primary writes segments, the spool's prefetcher (the wal-fetch JVM that
 * stayed on, later its successor) is SIGKILLed at a random point, three times. It leaves its lock
 * file with its pid and its in-flight marks behind; none of that may block or slow the next one:
 * PostgreSQL's next wal-fetch must serve the segment, its JVM must take the spool over as the new
 * prefetcher, the standby must reach the primary's rows, no launcher may wait out a dead
 * prefetcher's mark, and no zpitr process may run 10 s after the standby stopped.
 */
class PrefetcherKillIT {
    private static final Path LAUNCHER = WalFetchStandbyIT.LAUNCHER;
    /** A launcher waits at most this long on an in-flight mark; a dead prefetcher's must cost nothing like it. */
    private static final long MARK_WAIT_LIMIT_US = 10_000_000;

    private final ProcessRunner runner = new ProcessRunner();

    @Test
    void aPrefetcherKilledWhileFetchingBlocksNothing() throws Exception {
        Random random = ZpitrProcess.seeded("PrefetcherKillIT");
        try (SshServer host = SshServer.builder().build().start();
                WalLab lab = new WalLab(List.of(host.dataDir().resolve("arch")))) {
            Path home = Files.createDirectories(lab.root().resolve("zpitr"));
            Path identity = host.copyIdentityFor("postgres", home.resolve("keys/host"));
            Path knownHosts = home.resolve("keys/known_hosts");
            Files.writeString(knownHosts, Files.readString(host.knownHostsFile()));
            Path config = home.resolve("zpitr.yaml");
            Files.writeString(
                    config,
                    "state_dir: " + home.resolve("state") + "\n"
                            + "archive:\n  connect_timeout: 1s\n  prefetch: 4\n  sources:\n"
                            + WalFetchStandbyIT.source("host", host, identity, knownHosts));
            runner.run(Command.of("chown", "-R", "postgres:postgres", home.toString()))
                    .requireSuccess();
            Path spool = home.resolve("state/spool");
            Path trace = home.resolve("trace");

            lab.insertRows(1000);
            Path standbyDir = lab.standbyBaseBackup();

            try (PostgresCluster standby = PostgresCluster.builder()
                    .dataDir(standbyDir)
                    .initdb(false)
                    .setting(
                            "restore_command",
                            "ZPITR_TRACE_FILE=" + trace + " " + LAUNCHER + " --config " + config + " wal-fetch %f %p")
                    .setting("hot_standby", "on")
                    .build()) {
                standby.start();
                lab.switchAndWaitFor(standby);
                long prefetcher = awaitPrefetcher(config, standbyDir, -1);

                int killedMidFetch = 0;
                for (int round = 1; round <= 3; round++) {
                    // The primary writes segments while the standby replays them through the prefetcher.
                    CompletableFuture<List<String>> writing =
                            CompletableFuture.supplyAsync(() -> lab.switchSegments(6, 3000));
                    int delay = random.nextInt(1500);
                    Thread.sleep(delay); // the random point, then the first moment it is fetching a segment
                    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    while (marks(spool, WalSpool.IN_FLIGHT).isEmpty() && System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    List<String> inFlight = marks(spool, WalSpool.IN_FLIGHT);
                    killedMidFetch += inFlight.isEmpty() ? 0 : 1;
                    ProcessHandle.of(prefetcher).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL
                    long killed = prefetcher;
                    ZpitrProcess.await(
                            () -> !ProcessTrees.alive(killed),
                            Duration.ofSeconds(30),
                            "the prefetcher " + prefetcher + " to die of SIGKILL");
                    System.out.printf(
                            "round %d: killed prefetcher %d %d ms into the writing, in flight: %s%n",
                            round, prefetcher, delay, inFlight);
                    writing.join();

                    // Replay goes on to the primary's last row; a new prefetcher holds the spool.
                    lab.switchAndWaitFor(standby);
                    assertEquals(
                            lab.primary().psql("select count(*) || ' ' || max(id) from t"),
                            standby.psql("select count(*) || ' ' || max(id) from t"));
                    long next = awaitPrefetcher(config, standbyDir, prefetcher);
                    assertNotEquals(prefetcher, next);
                    assertEquals(
                            Optional.of(next),
                            Optional.of(Long.parseLong(Files.readString(spool.resolve(WalSpool.LOCK))
                                    .strip())),
                            "the new prefetcher holds the lock the dead one left");
                    prefetcher = next;
                }
                assertTrue(killedMidFetch > 0, "at least one kill landed while a segment was in flight");
                List<String> slowWaits = Files.readAllLines(trace).stream()
                        .filter(l -> l.startsWith("wait "))
                        .filter(l -> Long.parseLong(l.split(" ")[2]) >= MARK_WAIT_LIMIT_US)
                        .toList();
                assertEquals(List.of(), slowWaits, "no launcher waited out a dead prefetcher's in-flight mark");

                standby.stop();
                WalLab.awaitNoZpitrProcess(config, Duration.ofSeconds(10));
            } finally {
                WalLab.stopZpitrProcesses(config);
            }
        }
    }

    /** The pid of the prefetcher `zpitr status` names for the standby, once it is not {@code not}. */
    private long awaitPrefetcher(Path config, Path standbyDir, long not) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            String status = runner.run(Command.of(LAUNCHER.toString(), "--config", config.toString(), "status")
                            .timeout(Duration.ofMinutes(1)))
                    .stdout();
            Optional<Long> pid =
                    PrefetcherLifecycleIT.prefetcherIn(status, standbyDir).filter(p -> p != not);
            if (pid.isPresent()) {
                return pid.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no new prefetcher for " + standbyDir + " after 90 s; status:\n" + status);
            }
            Thread.sleep(200);
        }
    }

    /** The spool's marks of {@code prefix} for segments. */
    private static List<String> marks(Path spool, String prefix) {
        try (Stream<Path> files = Files.list(spool)) {
            // Segments only: at the archive's end it also asks for history files, which are small.
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(prefix))
                    .filter(n -> n.substring(prefix.length()).matches("[0-9A-F]{24}"))
                    .sorted()
                    .toList();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }
}

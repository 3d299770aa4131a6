package io.zpitr.appliance.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.appliance.config.Settings;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSpool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The daemon's part of prefetch ({@link StandbyPrefetch}): a real prefetcher process, started as
 * postgres, only while the standby reads the archive and none runs.
 */
class StandbyPrefetchIT {
    static final WalFileName ASKED = WalFileName.of("000000010000000000000007");
    final ProcessRunner runner = new ProcessRunner();
    Path root;
    Path spool;
    Path config;

    @BeforeEach
    void configWithAnEmptyArchive() throws Exception {
        // As under bin/zpitr (which exports ZPITR_LAUNCHER): the prefetcher runs the installed jar.
        System.setProperty(
                "zpitr.launcher",
                Path.of("..", "bin", "zpitr").toAbsolutePath().normalize().toString());
        root = Files.createTempDirectory(Path.of("/var/tmp"), "zpitr-standby-prefetch-");
        spool = root.resolve("state/spool");
        Path archive = Files.createDirectories(root.resolve("archive"));
        config = root.resolve("zpitr.yaml");
        Files.writeString(
                config,
                "state_dir: " + root.resolve("state") + "\n"
                        + "postgres:\n  os_user: postgres\n"
                        + "archive:\n  prefetch: 2\n  spool_dir: " + spool + "\n"
                        + "  sources:\n    - {name: nfs, type: local, path: " + archive + "}\n");
    }

    @AfterEach
    void stopPrefetcherAndClean() {
        System.clearProperty("zpitr.launcher");
        WalLab.stopZpitrProcesses(config);
        runner.run(Command.of("rm", "-rf", root.toString()));
    }

    private Settings settings() {
        return ConfigLoader.load(config);
    }

    /** The spool as wal-fetch leaves it: owned by postgres, PostgreSQL's last question in it. */
    private void spoolAsked(Instant when) throws Exception {
        new WalSpool(spool).recordRequested(ASKED);
        Files.setLastModifiedTime(spool.resolve(WalSpool.REQUESTED), FileTime.from(when));
        runner.run(Command.of("chown", "-R", "postgres:", root.toString())).requireSuccess();
        runner.run(Command.of("chmod", "755", root.toString())).requireSuccess();
    }

    @Test
    void startsThePrefetcherAsPostgresWhenTheStandbyAskedLatelyAndNoneRuns() throws Exception {
        spoolAsked(Instant.now());

        Optional<String> done = StandbyPrefetch.keep(settings(), runner, Clock.systemUTC());

        assertTrue(done.orElse("").contains("started the WAL prefetcher"), done.toString());
        WalSpool walSpool = new WalSpool(spool);
        Path mark = spool.resolve(WalSpool.MISSING + "000000010000000000000008");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.exists(mark) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        Path log = spool.resolve("prefetch.log");
        assertTrue(
                Files.exists(mark),
                "the prefetcher asked the archive for the next segment; its log: "
                        + (Files.exists(log) ? Files.readString(log) : "none"));
        assertFalse(PrefetcherProcess.idle(walSpool), "it holds the spool");
        long pid = Long.parseLong(Files.readString(spool.resolve(WalSpool.LOCK)).strip());
        assertEquals(
                "postgres",
                runner.run(Command.of("ps", "-o", "user=", "-p", Long.toString(pid)))
                        .stdout()
                        .strip());
        assertEquals(Optional.empty(), StandbyPrefetch.keep(settings(), runner, Clock.systemUTC()), "one is enough");
    }

    @Test
    void startsNothingForAStandbyThatHasNotAskedForTenMinutes() throws Exception {
        spoolAsked(Instant.now().minus(StandbyPrefetch.RECENT).minusSeconds(60));
        assertEquals(Optional.empty(), StandbyPrefetch.keep(settings(), runner, Clock.systemUTC()));
        assertTrue(PrefetcherProcess.idle(new WalSpool(spool)));
    }

    @Test
    void startsNothingWhenTheConfiguredStandbyIsNotRunning() throws Exception {
        spoolAsked(Instant.now());
        Path dataDir = Files.createDirectories(root.resolve("pgdata")); // a standby that was stopped: no postmaster.pid
        Files.writeString(
                config,
                Files.readString(config)
                        .replace(
                                "postgres:\n  os_user: postgres\n",
                                "postgres:\n  os_user: postgres\n  data_dir: " + dataDir + "\n"));
        assertEquals(Optional.empty(), StandbyPrefetch.keep(settings(), runner, Clock.systemUTC()));
        assertTrue(PrefetcherProcess.idle(new WalSpool(spool)), "no prefetcher for a standby that does not run");
    }

    @Test
    void createsNoSpoolOfItsOwn() throws Exception {
        assertEquals(Optional.empty(), StandbyPrefetch.keep(settings(), runner, Clock.systemUTC()));
        assertFalse(Files.exists(spool));
    }
}

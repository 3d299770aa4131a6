package io.zpitr.appliance.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.fixtures.SshServer;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A PostgreSQL 15 standby fed only by {@code bin/zpitr wal-fetch} (the launcher and the shaded jar,
 * as an operator installs them) from two archive hosts on loopback addresses, one of which dies
 * half-way; it must replay up to the primary's LSN.
 */
class WalFetchStandbyIT {
    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    final ProcessRunner runner = new ProcessRunner();

    @Test
    void aStandbyFedOnlyByWalFetchReplaysToThePrimarysLsn() throws Exception {
        try (SshServer host25 = SshServer.builder().build().start();
                SshServer host26 = SshServer.builder().build().start();
                WalLab lab = new WalLab(List.of(
                        host25.dataDir().resolve("arch/20261121"),
                        host26.dataDir().resolve("arch/20261121")))) {
            Path zpitrHome = lab.root().resolve("zpitr");
            Files.createDirectories(zpitrHome);
            Path identity25 = host25.copyIdentityFor("postgres", zpitrHome.resolve("keys/host25"));
            Path identity26 = host26.copyIdentityFor("postgres", zpitrHome.resolve("keys/host26"));
            Files.createDirectories(zpitrHome.resolve("keys"));
            Path knownHosts = zpitrHome.resolve("keys/known_hosts");
            Files.writeString(
                    knownHosts, Files.readString(host25.knownHostsFile()) + Files.readString(host26.knownHostsFile()));
            Path config = zpitrHome.resolve("zpitr.yaml");
            Files.writeString(
                    config,
                    "state_dir: " + zpitrHome.resolve("state") + "\n"
                            + "archive:\n  connect_timeout: 1s\n  down_for: 60s\n  prefetch: 8\n  sources:\n"
                            + source("host25", host25, identity25, knownHosts)
                            + source("host26", host26, identity26, knownHosts));
            chownTree(zpitrHome);

            lab.insertRows(1000);
            Path standbyDir = lab.standbyBaseBackup();
            lab.switchSegments(3, 2000);

            boolean passed = false;
            try (PostgresCluster standby = PostgresCluster.builder()
                    .dataDir(standbyDir)
                    .initdb(false)
                    .setting("restore_command", LAUNCHER + " --config " + config + " wal-fetch %f %p")
                    .setting("hot_standby", "on")
                    .build()) {
                standby.start();
                lab.switchSegments(3, 2000);
                host25.stop(); // the first host dies: the second must carry on
                lab.switchSegments(4, 2000);
                String target = lab.primary().psql("select pg_current_wal_lsn()");
                lab.switchAndWait();

                waitUntil(
                        () -> "t".equals(standby.psql("select pg_last_wal_replay_lsn() >= '" + target + "'::pg_lsn")),
                        Duration.ofMinutes(3),
                        "standby replay to " + target);
                assertEquals(
                        lab.primary().psql("select count(*) || ' ' || max(id) from t"),
                        standby.psql("select count(*) || ' ' || max(id) from t"));
                assertEquals("t", standby.psql("select pg_is_in_recovery()"));
                Path spool = zpitrHome.resolve("state/spool");
                assertTrue(Files.exists(spool.resolve(".requested")), "replay went through the spool");
                // The installed jar speaks SFTP to an ed25519-only sshd (a shaded jar without
                // Multi-Release: true once fell back to scp for every segment, and still passed).
                String check = runner.run(Command.of(LAUNCHER.toString(), "--config", config.toString(), "check")
                                .timeout(Duration.ofMinutes(1)))
                        .stdout();
                assertTrue(check.contains("sftp: logged in as " + host26.user()), check);
                String logs = Files.readString(standby.logFile())
                        + (Files.exists(spool.resolve("prefetch.log"))
                                ? Files.readString(spool.resolve("prefetch.log"))
                                : "");
                assertTrue(!logs.contains("using scp -O"), "no fallback to scp: " + logs);
                passed = true;
            } finally {
                if (!passed) {
                    WalLab.stopZpitrProcesses(config);
                }
            }
            // The standby is stopped: its prefetcher must end by itself within seconds.
            WalLab.awaitNoZpitrProcess(config, Duration.ofSeconds(10));
        }
    }

    static String source(String name, SshServer h, Path identity, Path knownHosts) {
        return "    - {name: " + name + ", type: ssh, host: " + h.address() + ", port: " + h.port() + ", user: "
                + h.user()
                + ", path: " + h.dataDir().resolve("arch") + ", identity_file: " + identity
                + ", known_hosts: " + knownHosts + "}\n";
    }

    private void chownTree(Path p) {
        runner.run(Command.of("chown", "-R", "postgres:postgres", p.toString())).requireSuccess();
    }

    static void waitUntil(java.util.function.BooleanSupplier condition, Duration limit, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + limit + " waiting for " + what);
            }
            Thread.sleep(200);
        }
    }
}

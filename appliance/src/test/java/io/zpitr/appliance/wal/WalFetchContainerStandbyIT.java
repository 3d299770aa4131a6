// A real standby fed by bin/zpitr wal-fetch from two archive host containers: one hangs mid-replay, or serves another
// cluster's WAL.
package io.zpitr.appliance.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.fixtures.ArchiveHostContainer;
import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fault tests of the WAL path against a PostgreSQL 15 standby, as an operator runs it:
 * {@code restore_command} is {@code bin/zpitr wal-fetch} (launcher, spool, prefetcher), the archive
 * hosts are containers. {@code host25} is first in the source order and is the faulty one.
 */
class WalFetchContainerStandbyIT {
    private static final Path LAUNCHER = WalFetchStandbyIT.LAUNCHER;

    @RegisterExtension
    static ArchiveHostContainer host25 = new ArchiveHostContainer();

    @RegisterExtension
    static ArchiveHostContainer host26 = new ArchiveHostContainer();

    private final ProcessRunner runner = new ProcessRunner();

    @AfterEach
    void healHost25() {
        host25.unpause();
    }

    /** zpitr's home for the standby: keys readable by postgres, the config with both hosts. */
    private Path zpitrHome(WalLab lab, String host25Archive) throws IOException {
        Path home = Files.createDirectories(lab.root().resolve("zpitr"));
        Path keys = Files.createDirectories(home.resolve("keys"));
        Path knownHosts = keys.resolve("known_hosts");
        Files.writeString(
                knownHosts, Files.readString(host25.knownHostsFile()) + Files.readString(host26.knownHostsFile()));
        Path config = home.resolve("zpitr.yaml");
        Files.writeString(
                config,
                "state_dir: " + home.resolve("state") + "\n"
                        + "archive:\n  connect_timeout: 1s\n  io_timeout: 3s\n  down_for: 60s\n  prefetch: 4\n  sources:\n"
                        + source("host25", host25, host25Archive, copyKey(host25, keys.resolve("host25")), knownHosts)
                        + source(
                                "host26",
                                host26,
                                host26.archivePath(),
                                copyKey(host26, keys.resolve("host26")),
                                knownHosts));
        runner.run(Command.of("chown", "-R", "postgres:postgres", home.toString()))
                .requireSuccess();
        return config;
    }

    private static Path copyKey(ArchiveHostContainer host, Path to) throws IOException {
        Files.copy(host.identityFile(), to);
        return to;
    }

    private static String source(String name, ArchiveHostContainer h, String path, Path identity, Path knownHosts) {
        return "    - {name: " + name + ", type: ssh, host: " + h.address() + ", port: " + ArchiveHostContainer.PORT
                + ", user: " + ArchiveHostContainer.USER + ", path: " + path + ", identity_file: " + identity
                + ", known_hosts: " + knownHosts + "}\n";
    }

    private static PostgresCluster standby(Path dataDir, Path config) {
        return PostgresCluster.builder()
                .dataDir(dataDir)
                .initdb(false)
                .setting("restore_command", LAUNCHER + " --config " + config + " wal-fetch %f %p")
                .setting("hot_standby", "on")
                .build();
    }

    private void stopPrefetchers(Path config) {
        Path spool = config.getParent().resolve("state/spool");
        PrefetcherProcess.stop(spool, Duration.ofSeconds(5));
    }

    @Test
    void aHostThatHangsWhileTheStandbyReplaysCostsOneBoundAndReplayGoesOn() throws Exception {
        try (WalLab lab = new WalLab(List.of(host25.archiveDir(), host26.archiveDir()))) {
            Path config = zpitrHome(lab, host25.archivePath());
            lab.insertRows(1000);
            Path standbyDir = lab.standbyBaseBackup();
            lab.switchSegments(2, 1000);
            try (PostgresCluster standby = standby(standbyDir, config)) {
                standby.start();
                lab.switchAndWaitFor(standby);
                host25.pause(); // frozen: TCP still accepted, nothing answers
                lab.switchSegments(4, 1000);
                long start = System.nanoTime();
                lab.switchAndWaitFor(standby);
                long took = (System.nanoTime() - start) / 1_000_000;
                // Unbounded, one hung host cost 33 s for the first segment and 43 s for each later one.
                assertTrue(took < 30_000, "replay past the hung host took " + took + " ms");
                assertEquals(
                        lab.primary().psql("select count(*) || ' ' || max(id) from t"),
                        standby.psql("select count(*) || ' ' || max(id) from t"));
                assertTrue(
                        Files.exists(config.getParent()
                                .resolve("state/down")
                                .resolve(host25.address() + "_" + ArchiveHostContainer.PORT)),
                        "host25 is remembered as down");
            } finally {
                host25.unpause();
                stopPrefetchers(config);
            }
        }
    }

    @Test
    void anotherClustersSegmentsOnTheFirstHostAreNeverDelivered() throws Exception {
        try (WalLab lab = new WalLab(List.of(host26.archiveDir()))) {
            // host25's folder holds another cluster's WAL under the same names (a shared archive host).
            Path foreign = Files.createDirectories(host25.archiveDir().resolve("other-cluster"));
            Path config = zpitrHome(lab, host25.archivePath() + "/other-cluster");
            lab.insertRows(1000);
            Path standbyDir = lab.standbyBaseBackup();
            List<String> segments = lab.switchSegments(4, 1000);
            long ours = Long.parseLong(lab.primary().psql("select system_identifier from pg_control_system()"));
            long theirs = ours + 1;
            try (Stream<Path> archived = Files.list(lab.archive())) {
                for (Path segment : archived.filter(
                                p -> p.getFileName().toString().matches("[0-9A-F]{24}"))
                        .toList()) {
                    withSystemIdentifier(Files.copy(segment, foreign.resolve(segment.getFileName())), theirs);
                }
            }
            runner.run(Command.of("chown", "-R", "postgres:postgres", foreign.toString()))
                    .requireSuccess();
            try (PostgresCluster standby = standby(standbyDir, config)) {
                standby.start();
                lab.switchAndWaitFor(standby);
                assertEquals(
                        lab.primary().psql("select count(*) || ' ' || max(id) from t"),
                        standby.psql("select count(*) || ' ' || max(id) from t"));
                Path spool = config.getParent().resolve("state/spool");
                String logs = Files.readString(standby.logFile())
                        + (Files.exists(spool.resolve("prefetch.log"))
                                ? Files.readString(spool.resolve("prefetch.log"))
                                : "");
                assertFalse(
                        logs.contains("is from different database system"), "PostgreSQL never saw a foreign segment");
                assertTrue(
                        logs.contains("system identifier " + theirs + " in its long page header, but the asking"
                                + " cluster's is " + ours),
                        "the refusal names both identifiers: " + logs);
                assertEquals(
                        Long.toUnsignedString(ours),
                        Files.readString(spool.resolve(".system-identifier")).strip());
                assertTrue(segments.size() == 4);
            } finally {
                stopPrefetchers(config);
            }
        }
    }

    /** Overwrites the system identifier in a segment's long page header (bytes 24 to 31). */
    private static void withSystemIdentifier(Path segment, long id) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw")) {
            file.seek(24);
            file.write(ByteBuffer.allocate(8)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(id)
                    .array());
        }
    }
}

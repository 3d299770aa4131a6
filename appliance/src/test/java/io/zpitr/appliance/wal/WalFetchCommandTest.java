package io.zpitr.appliance.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.cli.Main;
import io.zpitr.fixtures.SshServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `zpitr wal-fetch` as PostgreSQL calls it, run in-process against real OpenSSH hosts on loopback
 * addresses holding real WAL segments from a real PostgreSQL 15 primary.
 */
class WalFetchCommandTest {
    static WalLab lab;
    static List<String> segments;

    @TempDir
    Path work;

    @BeforeAll
    static void archiveSomeWal() throws IOException {
        lab = new WalLab();
        segments = lab.switchSegments(3, 1000);
    }

    @AfterAll
    static void stop() throws IOException {
        lab.close();
    }

    record Run(int code, String out, String err, long millis) {}

    private Run walFetch(Path config, String file, Path dest) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        long start = System.nanoTime();
        int code = Main.run(
                new String[] {"--config", config.toString(), "wal-fetch", file, dest.toString()},
                new PrintWriter(out, true),
                new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString(), (System.nanoTime() - start) / 1_000_000);
    }

    /** A config with the given ssh hosts, in order; no prefetch (in-process tests). */
    private Path config(SshServer... hosts) throws IOException {
        StringBuilder yaml = new StringBuilder("state_dir: " + work.resolve("state") + "\narchive:\n"
                + "  connect_timeout: 1s\n  down_for: 60s\n  prefetch: 0\n  sources:\n");
        for (SshServer h : hosts) {
            yaml.append("    - {name: host")
                    .append(h.port())
                    .append(h.address().replace('.', '-'))
                    .append(", type: ssh, host: ")
                    .append(h.address())
                    .append(", port: ")
                    .append(h.port())
                    .append(", user: ")
                    .append(h.user())
                    .append(", path: ")
                    .append(h.dataDir().resolve("arch"))
                    .append(", identity_file: ")
                    .append(h.identityFile())
                    .append(", known_hosts: ")
                    .append(h.knownHostsFile())
                    .append("}\n");
        }
        Path f = work.resolve("zpitr.yaml");
        Files.writeString(f, yaml.toString());
        return f;
    }

    private static String nameOf(SshServer h) {
        return "host" + h.port() + h.address().replace('.', '-');
    }

    private static Path put(SshServer host, String folder, String segment, String asName) throws IOException {
        Path dir = host.dataDir().resolve("arch").resolve(folder);
        Files.createDirectories(dir);
        Path target = dir.resolve(asName);
        Files.copy(lab.archive().resolve(segment), target, StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    private static byte[] archived(String segment) throws IOException {
        return Files.readAllBytes(lab.archive().resolve(segment));
    }

    private void assertNothingWrittenBeside(Path dest) throws IOException {
        assertFalse(Files.exists(dest), dest + " must not exist");
        try (Stream<Path> files = Files.list(dest.getParent())) {
            assertEquals(
                    List.of(),
                    files.filter(p -> p.getFileName().toString().startsWith(".zpitr"))
                            .toList(),
                    "no temporary file is left");
        }
    }

    @Test
    void fetchesOverSftpFromTopLevelAndDatedFolders() throws IOException {
        try (SshServer a = SshServer.builder().build().start()) {
            put(a, "", segments.get(0), segments.get(0));
            put(a, "20261121", segments.get(1), segments.get(1));
            Path cfg = config(a);
            Path dest = work.resolve("RECOVERYXLOG");
            Run r = walFetch(cfg, segments.get(0), dest);
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(archived(segments.get(0)), Files.readAllBytes(dest));
            r = walFetch(cfg, segments.get(1), dest);
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(archived(segments.get(1)), Files.readAllBytes(dest));
        }
    }

    @Test
    void aDeadHostIsSkippedAndRememberedAcrossCalls() throws IOException {
        try (SshServer dead = SshServer.builder().build().start();
                SshServer live = SshServer.builder().build().start()) {
            put(live, "20261121", segments.get(0), segments.get(0));
            put(dead, "", segments.get(0), segments.get(0));
            Path cfg = config(dead, live);
            dead.stop();
            Path dest = work.resolve("RECOVERYXLOG");

            Run first = walFetch(cfg, segments.get(0), dest);
            assertEquals(0, first.code(), first.err());
            assertArrayEquals(archived(segments.get(0)), Files.readAllBytes(dest));
            assertTrue(first.err().contains(nameOf(dead) + ": unavailable"), first.err());

            Files.delete(dest);
            Run second = walFetch(cfg, segments.get(0), dest);
            assertEquals(0, second.code(), second.err());
            assertTrue(
                    second.err().contains(nameOf(dead) + ": unavailable")
                            && second.err().contains("down"),
                    "the second call skips the remembered host: " + second.err());
            assertArrayEquals(archived(segments.get(0)), Files.readAllBytes(dest));
        }
    }

    @Test
    void aHostRefusingSftpIsServedByScp() throws IOException {
        try (SshServer noSftp = SshServer.builder().sftp(false).build().start()) {
            put(noSftp, "20261121", segments.get(2), segments.get(2));
            Path dest = work.resolve("RECOVERYXLOG");
            Run r = walFetch(config(noSftp), segments.get(2), dest);
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(archived(segments.get(2)), Files.readAllBytes(dest));
        }
    }

    @Test
    void badCopiesAreSkippedForTheGoodOne() throws IOException {
        try (SshServer a = SshServer.builder().build().start();
                SshServer b = SshServer.builder().build().start()) {
            String wanted = segments.get(1);
            Path truncated = put(a, "", wanted, wanted);
            try (var ch = java.nio.channels.FileChannel.open(truncated, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(8 << 20);
            }
            put(b, "", segments.get(0), wanted); // another segment under the right name
            put(b, "20261120", wanted, wanted); // the good copy, in a dated folder
            Path dest = work.resolve("RECOVERYXLOG");
            Run r = walFetch(config(a, b), wanted, dest);
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(archived(wanted), Files.readAllBytes(dest));
            assertTrue(r.err().contains(nameOf(a) + ": bad copy"), r.err());
            assertTrue(r.err().contains(nameOf(b) + ": bad copy"), r.err());
        }
    }

    @Test
    void onlyBadCopiesIsAnErrorAndNothingLands() throws IOException {
        try (SshServer a = SshServer.builder().build().start()) {
            put(a, "", segments.get(0), segments.get(1));
            Path dest = work.resolve("RECOVERYXLOG");
            Run r = walFetch(config(a), segments.get(1), dest);
            assertEquals(5, r.code(), r.err());
            assertNothingWrittenBeside(dest);
        }
    }

    @Test
    void aMissingFileExitsOneQuicklyAndWritesNothing() throws IOException {
        try (SshServer a = SshServer.builder().build().start();
                SshServer b = SshServer.builder().build().start()) {
            Files.createDirectories(a.dataDir().resolve("arch/20261121"));
            Files.createDirectories(b.dataDir().resolve("arch"));
            Path dest = work.resolve("RECOVERYXLOG");
            Run r = walFetch(config(a, b), "0000000100000000000000F0", dest);
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().contains("not found"), r.err());
            assertTrue(r.millis() < 5000, "took " + r.millis() + " ms");
            assertNothingWrittenBeside(dest);
        }
    }

    @Test
    void anUnknownHostKeyIsRefusedNamingItsFingerprint() throws IOException {
        try (SshServer a = SshServer.builder().build().start();
                SshServer other = SshServer.builder().build().start()) {
            put(a, "", segments.get(0), segments.get(0));
            Path cfg = config(a);
            // Trust the other host's key instead of this one's.
            Files.writeString(
                    cfg,
                    Files.readString(cfg)
                            .replace(
                                    a.knownHostsFile().toString(),
                                    other.knownHostsFile().toString()));
            Path dest = work.resolve("RECOVERYXLOG");
            Run r = walFetch(cfg, segments.get(0), dest);
            assertEquals(4, r.code(), r.err());
            assertTrue(r.err().contains(a.hostKeyFingerprint()), r.err());
            assertNothingWrittenBeside(dest);
        }
    }

    @Test
    void hostileNamesAreRefusedBeforeAnything() throws IOException {
        Path cfg = config();
        for (String hostile :
                List.of("../../etc/passwd", "000000010000000000000001; rm -rf /", "", "00000001.history/../x")) {
            Path dest = work.resolve("RECOVERYXLOG");
            Run r = walFetch(cfg, hostile, dest);
            assertEquals(2, r.code(), hostile + ": " + r.err());
            assertTrue(r.err().contains("is not a WAL file name"), r.err());
            assertNothingWrittenBeside(dest);
        }
        assertFalse(Files.exists(work.resolve("state")), "nothing was created for a refused name");
    }
}

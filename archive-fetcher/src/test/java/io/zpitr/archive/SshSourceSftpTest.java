// Proves SshSource over SFTP against a real OpenSSH sshd: both layouts, missing files, one reused session, reconnects.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.archive.SshHostConfig.Transport;
import io.zpitr.fixtures.SshServer;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class SshSourceSftpTest {
    @RegisterExtension
    static SshServer host = SshServer.builder().build();

    @TempDir
    Path local;

    private SshSource source;

    @BeforeEach
    void emptyArchive() throws IOException {
        clear(host.dataDir());
    }

    @AfterEach
    void closeSource() {
        if (source != null) {
            source.close();
        }
    }

    private SshSource open(Transport... transports) {
        source = new SshSource(
                SshTestHosts.config(host, transports),
                new HostReachability(local.resolve("state"), Duration.ofSeconds(60), Clock.systemUTC()),
                new ProcessRunner(),
                local.resolve("scratch"));
        return source;
    }

    @Test
    void fetchesASegmentAtTopLevelByteForByte() throws Exception {
        WalFileName segment = WalFileName.of("000000010000000000000003");
        byte[] bytes = SshTestHosts.writeRandom(host.dataDir().resolve(segment.name()), SshTestHosts.SEGMENT_SIZE, 3);
        open(Transport.SFTP, Transport.SCP);

        List<WalCopy> copies = source.find(segment);

        assertEquals(List.of(new WalCopy(source.name(), host.dataDir() + "/" + segment.name(), bytes.length)), copies);
        Path target = local.resolve("target");
        source.download(copies.get(0), target);
        assertArrayEquals(bytes, Files.readAllBytes(target));
    }

    @Test
    void searchesDatedFoldersNewestNamedFirstAfterTheTopLevel() throws Exception {
        WalFileName segment = WalFileName.of("000000010000000000000004");
        Path arch = host.dataDir();
        byte[] older = SshTestHosts.writeRandom(
                arch.resolve("20261119").resolve(segment.name()), SshTestHosts.SEGMENT_SIZE, 41);
        byte[] newer = SshTestHosts.writeRandom(
                arch.resolve("20261120").resolve(segment.name()), SshTestHosts.SEGMENT_SIZE, 42);
        byte[] top = SshTestHosts.writeRandom(arch.resolve(segment.name()), 1000, 40);
        Files.createDirectories(arch.resolve("20261121")); // a dated folder without it
        Files.createDirectories(arch.resolve(".hidden")); // skipped, as a shell's * skips it
        Files.writeString(arch.resolve("readme.txt"), "not a folder");
        open(Transport.SFTP);

        List<WalCopy> copies = source.find(segment);

        assertEquals(
                List.of(
                        arch + "/" + segment.name(),
                        arch + "/20261120/" + segment.name(),
                        arch + "/20261119/" + segment.name()),
                copies.stream().map(WalCopy::location).toList());
        assertEquals(
                List.of(1000L, (long) SshTestHosts.SEGMENT_SIZE, (long) SshTestHosts.SEGMENT_SIZE),
                copies.stream().map(WalCopy::size).toList());
        byte[][] expected = {top, newer, older};
        for (int i = 0; i < copies.size(); i++) {
            Path target = local.resolve("target" + i);
            source.download(copies.get(i), target);
            assertArrayEquals(
                    expected[i], Files.readAllBytes(target), copies.get(i).location());
        }
    }

    @Test
    void aMissingFileIsAnEmptyListQuickly() throws Exception {
        Files.createDirectories(host.dataDir().resolve("20261120"));
        open(Transport.SFTP, Transport.SCP);
        source.find(WalFileName.of("00000002.history")); // connects

        long start = System.nanoTime();
        assertEquals(List.of(), source.find(WalFileName.of("000000010000000000000099")));
        long took = (System.nanoTime() - start) / 1_000_000;
        assertTrue(took < 1000, "a missing file on an open session took " + took + " ms");
    }

    @Test
    void oneSessionServesManyCalls() throws Exception {
        open(Transport.SFTP);
        long loginsBefore = logins();
        for (int i = 0; i < 20; i++) {
            String name = String.format("0000000100000000000000%02X", i);
            Files.writeString(host.dataDir().resolve(name), "segment " + i);
            WalCopy copy = source.find(WalFileName.of(name)).get(0);
            source.download(copy, local.resolve("t"));
            assertEquals("segment " + i, Files.readString(local.resolve("t")));
        }
        assertEquals(loginsBefore + 1, logins(), "20 finds and 20 downloads must share one SSH login");
    }

    @Test
    void reconnectsOnceWhenTheSessionDropped() throws Exception {
        WalFileName segment = WalFileName.of("000000010000000000000005");
        byte[] bytes = SshTestHosts.writeRandom(host.dataDir().resolve(segment.name()), 4096, 5);
        open(Transport.SFTP);
        assertEquals(1, source.find(segment).size());

        host.stop(); // kills the daemon and our session's sshd child
        host.start(); // same address, port and keys

        List<WalCopy> copies = source.find(segment);
        assertEquals(1, copies.size());
        source.download(copies.get(0), local.resolve("t"));
        assertArrayEquals(bytes, Files.readAllBytes(local.resolve("t")));
    }

    @Test
    void aDatedFolderCreatedAfterTheListingWasReadIsFound() throws Exception {
        Files.createDirectories(host.dataDir().resolve("20261120"));
        open(Transport.SFTP);
        WalFileName segment = WalFileName.of("000000010000000000000006");
        assertEquals(List.of(), source.find(segment)); // lists 20261120 only

        Path late = host.dataDir().resolve("20261121").resolve(segment.name());
        Files.createDirectories(late.getParent());
        Files.writeString(late, "late");

        List<WalCopy> copies = source.find(segment); // the cached listing misses it: re-read
        assertEquals(
                List.of(host.dataDir() + "/20261121/" + segment.name()),
                copies.stream().map(WalCopy::location).toList());
    }

    @Test
    void scpOnlyAlsoWorksAgainstAnSftpHost() throws Exception {
        WalFileName segment = WalFileName.of("000000010000000000000007");
        byte[] bytes =
                SshTestHosts.writeRandom(host.dataDir().resolve("20261120").resolve(segment.name()), 70_000, 7);
        open(Transport.SCP);
        long loginsBefore = logins();

        List<WalCopy> copies = source.find(segment);

        assertEquals(
                List.of(new WalCopy(source.name(), host.dataDir() + "/*/" + segment.name(), bytes.length)), copies);
        source.download(copies.get(0), local.resolve("t"));
        assertArrayEquals(bytes, Files.readAllBytes(local.resolve("t")));
        assertEquals(
                loginsBefore + 2, logins(), "top level, then the glob; the download used the bytes already fetched");
    }

    /** scp, which cannot list, would call the file missing here: it must not be asked. */
    @Test
    void aMissingArchiveFolderIsAFailureNotAMissingFileEvenWithScpConfigured() {
        source = new SshSource(
                new SshHostConfig(
                        "arch",
                        host.address(),
                        host.port(),
                        host.user(),
                        host.dataDir() + "/no-such-folder",
                        host.identityFile(),
                        host.knownHostsFile(),
                        List.of(Transport.SFTP, Transport.SCP),
                        Duration.ofSeconds(2)),
                new HostReachability(local.resolve("state"), Duration.ofSeconds(60), Clock.systemUTC()),
                new ProcessRunner());
        SourceUnavailableException e = assertThrows(
                SourceUnavailableException.class, () -> source.find(WalFileName.of("000000010000000000000008")));
        assertTrue(
                e.getMessage()
                        .startsWith("source 'arch' (" + host.user() + "@" + host.address() + ":" + host.port()
                                + ", sftp): cannot search " + host.dataDir() + "/no-such-folder"),
                e.getMessage());
    }

    @Test
    void aCopyOfAnotherSourceOrOutsideTheArchiveIsRefused() {
        open(Transport.SFTP);
        assertThrows(
                IllegalArgumentException.class,
                () -> source.download(
                        new WalCopy("other", host.dataDir() + "/000000010000000000000001", 1), local.resolve("t")));
        assertThrows(
                IllegalArgumentException.class,
                () -> source.download(new WalCopy(source.name(), "/etc/passwd", 1), local.resolve("t")));
        assertTrue(Files.notExists(local.resolve("t")));
    }

    @Test
    void probeConfirmsLoginAndFolderForEachTransport() throws Exception {
        open(Transport.SFTP, Transport.SCP);
        assertEquals(
                "sftp: logged in as " + host.user() + ", " + host.dataDir() + " is a folder",
                source.probe(Transport.SFTP));
        assertEquals(
                "scp: logged in as " + host.user() + ", " + host.dataDir() + " is a folder",
                source.probe(Transport.SCP));
    }

    // ---------------------------------------------------------------------------------------

    /** Successful SSH logins sshd has logged so far. */
    private static long logins() throws IOException {
        try (Stream<String> lines = Files.lines(host.logFile())) {
            return lines.filter(l -> l.contains("Accepted publickey")).count();
        }
    }

    private static void clear(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }
}

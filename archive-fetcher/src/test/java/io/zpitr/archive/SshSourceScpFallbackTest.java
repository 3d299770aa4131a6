// Proves the scp -O fallback against a real sshd that refuses the SFTP subsystem, and transports: [sftp] without
// fallback.
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class SshSourceScpFallbackTest {
    /** Logs in fine, offers no SFTP: only legacy scp (scp -O) reaches it. */
    @RegisterExtension
    static SshServer scpOnlyHost = SshServer.builder().sftp(false).build();

    @TempDir
    Path local;

    private SshSource source;

    @AfterEach
    void closeSource() {
        if (source != null) {
            source.close();
        }
    }

    private SshSource open(SshServer server, Transport... transports) {
        source = new SshSource(
                SshTestHosts.config(server, transports),
                new HostReachability(local.resolve("state"), Duration.ofSeconds(60), Clock.systemUTC()),
                new ProcessRunner(),
                local.resolve("scratch"));
        return source;
    }

    @Test
    void sftpRefusedThenScpDeliversTheSameBytesFromTheTopLevel() throws Exception {
        WalFileName segment = WalFileName.of("000000010000000000000010");
        byte[] bytes =
                SshTestHosts.writeRandom(scpOnlyHost.dataDir().resolve(segment.name()), SshTestHosts.SEGMENT_SIZE, 10);
        open(scpOnlyHost, Transport.SFTP, Transport.SCP);

        List<WalCopy> copies = source.find(segment);

        assertEquals(
                List.of(new WalCopy(source.name(), scpOnlyHost.dataDir() + "/" + segment.name(), bytes.length)),
                copies);
        Path target = local.resolve("target");
        source.download(copies.get(0), target);
        assertArrayEquals(bytes, Files.readAllBytes(target));
        assertEquals(List.of(), scratchCopies(), "a downloaded copy is not kept");
    }

    @Test
    void scpFindsTheNewestNamedDatedCopyThroughTheRemoteGlob() throws Exception {
        WalFileName segment = WalFileName.of("000000010000000000000011");
        Path arch = scpOnlyHost.dataDir();
        SshTestHosts.writeRandom(arch.resolve("20261119").resolve(segment.name()), SshTestHosts.SEGMENT_SIZE, 110);
        byte[] newest = SshTestHosts.writeRandom(
                arch.resolve("20261120").resolve(segment.name()), SshTestHosts.SEGMENT_SIZE, 111);
        open(scpOnlyHost, Transport.SFTP, Transport.SCP);

        List<WalCopy> copies = source.find(segment);

        assertEquals(List.of(new WalCopy(source.name(), arch + "/*/" + segment.name(), newest.length)), copies);
        Path target = local.resolve("target");
        source.download(copies.get(0), target);
        assertArrayEquals(newest, Files.readAllBytes(target));
    }

    @Test
    void aMissingFileIsAnEmptyListThroughScpToo() throws Exception {
        Files.createDirectories(scpOnlyHost.dataDir().resolve("20261120"));
        open(scpOnlyHost, Transport.SFTP, Transport.SCP);
        assertEquals(List.of(), source.find(WalFileName.of("000000010000000000000012")));
        assertEquals(List.of(), source.find(WalFileName.of("00000003.history")));
        assertEquals(List.of(), scratchCopies());
    }

    @Test
    void aCopyNoLongerKeptIsFetchedAgainOnDownload() throws Exception {
        WalFileName segment = WalFileName.of("000000010000000000000013");
        byte[] bytes = SshTestHosts.writeRandom(
                scpOnlyHost.dataDir().resolve("20261120").resolve(segment.name()), 50_000, 13);
        open(scpOnlyHost, Transport.SCP);
        WalCopy copy = new WalCopy(source.name(), scpOnlyHost.dataDir() + "/*/" + segment.name(), -1);

        source.download(copy, local.resolve("target"));

        assertArrayEquals(bytes, Files.readAllBytes(local.resolve("target")));
    }

    @Test
    void sftpOnlyDoesNotFallBackAndSaysWhy() throws Exception {
        SshTestHosts.writeRandom(scpOnlyHost.dataDir().resolve("000000010000000000000014"), 1000, 14);
        open(scpOnlyHost, Transport.SFTP);

        SourceUnavailableException e = assertThrows(
                SourceUnavailableException.class, () -> source.find(WalFileName.of("000000010000000000000014")));

        String where = "source '" + source.name() + "' (" + scpOnlyHost.user() + "@" + scpOnlyHost.address() + ":"
                + scpOnlyHost.port() + ", sftp)";
        assertTrue(e.getMessage().startsWith(where + ": the host refused the SFTP subsystem"), e.getMessage());
        assertTrue(e.getMessage().contains("\nHINT: enable SFTP on the host"), e.getMessage());
        assertEquals(source.name(), e.source());
        assertEquals(List.of(), scratchCopies());
    }

    @Test
    void aHostThatLosesSftpWhileASessionIsOpenIsServedByScp() throws Exception {
        try (SshServer withSftp = SshServer.builder().build().start()) {
            WalFileName segment = WalFileName.of("000000010000000000000015");
            byte[] bytes = SshTestHosts.writeRandom(withSftp.dataDir().resolve(segment.name()), 100_000, 15);
            open(withSftp, Transport.SFTP, Transport.SCP);
            assertEquals(100_000, source.find(segment).get(0).size());

            // The same host (address, port, keys) comes back without SFTP; the old session is gone.
            withSftp.stop();
            try (SshServer same = SshServer.builder()
                    .sameHostAs(withSftp)
                    .dataDir(withSftp.dataDir())
                    .sftp(false)
                    .build()
                    .start()) {
                assertEquals(withSftp.hostKeyFingerprint(), same.hostKeyFingerprint());
                List<WalCopy> copies = source.find(segment);
                assertEquals(1, copies.size());
                source.download(copies.get(0), local.resolve("target"));
                assertArrayEquals(bytes, Files.readAllBytes(local.resolve("target")));
            }
        }
    }

    /** Files the scp transport still keeps in its scratch folder. */
    private List<Path> scratchCopies() throws IOException {
        Path scratch = local.resolve("scratch");
        if (!Files.exists(scratch)) {
            return List.of();
        }
        try (Stream<Path> all = Files.walk(scratch)) {
            return all.filter(Files::isRegularFile).toList();
        }
    }
}

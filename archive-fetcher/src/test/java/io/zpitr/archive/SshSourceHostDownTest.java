// Proves that a dead archive host costs one connect, is skipped by later processes at once, and is tried again after
// down_for.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.archive.SshHostConfig.Transport;
import io.zpitr.archive.SshTestHosts.ManualClock;
import io.zpitr.fixtures.SshServer;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SshSourceHostDownTest {
    private static final Duration DOWN_FOR = Duration.ofSeconds(60);
    private static final WalFileName SEGMENT = WalFileName.of("000000010000000000000030");

    @RegisterExtension
    static SshServer host = SshServer.builder().build();

    @TempDir
    Path local;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-20T04:01:00Z"));

    /** One wal-fetch process: its own source and reachability, the shared state dir. */
    private SshSource process(Transport... transports) {
        return new SshSource(
                SshTestHosts.config(host, transports),
                new HostReachability(local.resolve("state"), DOWN_FOR, clock),
                new ProcessRunner(),
                local.resolve("scratch"));
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aStoppedHostIsRememberedAcrossProcessesAndTriedAgainAfterDownFor(Transport transport) throws Exception {
        SshTestHosts.writeRandom(host.dataDir().resolve(SEGMENT.name()), 2000, 30);
        host.stop();
        try {
            String where = "source 'arch-" + host.address() + "' (" + host.user() + "@" + host.address() + ":"
                    + host.port() + ", " + transport + ")";
            try (SshSource first = process(transport, transport == Transport.SFTP ? Transport.SCP : Transport.SFTP)) {
                SourceUnavailableException e =
                        assertThrows(SourceUnavailableException.class, () -> first.find(SEGMENT));
                assertTrue(
                        e.getMessage()
                                .startsWith(where + ": host did not accept a TCP connection (connection refused);"
                                        + " skipping it until "
                                        + clock.instant().plus(DOWN_FOR)),
                        e.getMessage());
                assertTrue(e.getMessage().contains("\nHINT: "), e.getMessage());
            }
            Path record = local.resolve("state").resolve("down").resolve(host.address() + "_" + host.port());
            assertTrue(Files.exists(record));

            // The host is back, but the next process does not even try it until down_for has passed.
            host.start();
            try (SshSource second = process(transport)) {
                long start = System.nanoTime();
                SourceUnavailableException e =
                        assertThrows(SourceUnavailableException.class, () -> second.find(SEGMENT));
                long took = (System.nanoTime() - start) / 1_000_000;
                // Generous for a loaded machine; a connect attempt would say otherwise in the message below.
                assertTrue(took < 1000, "a remembered host must be skipped at once; took " + took + " ms");
                assertTrue(e.getMessage().startsWith(where + ": host is skipped without trying"), e.getMessage());
                assertTrue(e.getMessage().contains(record.toString()), e.getMessage());
            }

            clock.advance(DOWN_FOR);
            try (SshSource third = process(transport)) {
                assertEquals(1, third.find(SEGMENT).size());
            }
            assertTrue(Files.notExists(record), "a host that answered is forgotten");
        } finally {
            host.start();
        }
    }

    /**
     * A host that answered moments ago is not probed again before each connection (see
     * SshEndpoint#requireReachable); when it dies, the failed SSH connect itself records it as down.
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    void aHostThatDiesBetweenCallsIsAFailureAndRemembered(Transport transport) throws Exception {
        SshTestHosts.writeRandom(host.dataDir().resolve(SEGMENT.name()), 2000, 31);
        try (SshSource source = process(transport)) {
            assertEquals(1, source.find(SEGMENT).size());
            host.stop();
            try {
                SourceUnavailableException e =
                        assertThrows(SourceUnavailableException.class, () -> source.find(SEGMENT));
                assertTrue(
                        e.getMessage().contains(transport + "): host stopped accepting connections"), e.getMessage());
                assertTrue(Files.exists(
                        local.resolve("state").resolve("down").resolve(host.address() + "_" + host.port())));

                e = assertThrows(SourceUnavailableException.class, () -> source.find(SEGMENT));
                assertTrue(e.getMessage().contains(transport + "): host is skipped without trying"), e.getMessage());
            } finally {
                host.start();
            }
        }
    }
}

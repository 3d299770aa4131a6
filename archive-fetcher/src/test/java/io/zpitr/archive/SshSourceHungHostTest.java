// Proves that a host which accepts TCP connections but never speaks SSH costs one connect_timeout, then nothing.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.archive.SshHostConfig.Transport;
import io.zpitr.fixtures.SshServer;
import io.zpitr.process.ProcessRunner;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The hung host of the runbook (a frozen VM, an sshd stuck on a full disk): the kernel completes
 * the TCP handshake, so the reachability probe passes, and then no SSH banner ever comes. A socket
 * that is listened on and never accepted from is exactly that. (The container tests pause a real
 * sshd for the same fault.)
 */
class SshSourceHungHostTest {
    private static final Duration CONNECT_TIMEOUT = Duration.ofMillis(700);
    private static final WalFileName SEGMENT = WalFileName.of("000000010000000000000040");

    /** Only for a real key pair and known_hosts file: the source never gets as far as using them. */
    @RegisterExtension
    static SshServer keys = SshServer.builder().build();

    @TempDir
    Path local;

    private ServerSocket silent;

    @BeforeEach
    void listenWithoutAnswering() throws Exception {
        silent = new ServerSocket();
        silent.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    }

    @AfterEach
    void close() throws Exception {
        silent.close();
    }

    private SshSource process(Transport transport) {
        SshHostConfig config = new SshHostConfig(
                "hung",
                "127.0.0.1",
                silent.getLocalPort(),
                keys.user(),
                "/arch",
                keys.identityFile(),
                keys.knownHostsFile(),
                List.of(transport),
                CONNECT_TIMEOUT,
                Duration.ofSeconds(30));
        return new SshSource(
                config,
                new HostReachability(local.resolve("state"), Duration.ofSeconds(60), Clock.systemUTC()),
                new ProcessRunner(),
                local.resolve("scratch"));
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aHungHostCostsOneConnectTimeoutAndIsThenSkipped(Transport transport) throws Exception {
        long start = System.nanoTime();
        try (SshSource first = process(transport)) {
            SourceUnavailableException e = assertThrows(SshNoFallbackException.class, () -> first.find(SEGMENT));
            long took = (System.nanoTime() - start) / 1_000_000;
            // scp rounds ConnectTimeout up to whole seconds; io_timeout (30 s) must play no part.
            assertTrue(took < 1000 + 3000, "the first call waits about one connect_timeout, took " + took + " ms");
            assertTrue(
                    e.getMessage()
                            .contains(
                                    transport == Transport.SFTP
                                            ? "sent no SSH banner within 700 ms"
                                            : "the host stalled: "),
                    e.getMessage());
            assertTrue(e.getMessage().contains("\nHINT: "), e.getMessage());
        }
        Path record = local.resolve("state").resolve("down").resolve("127.0.0.1_" + silent.getLocalPort());
        assertTrue(Files.exists(record), "a hung host is remembered as down like a refusing one");

        try (SshSource next = process(transport)) {
            long again = System.nanoTime();
            SourceUnavailableException e = assertThrows(SourceUnavailableException.class, () -> next.find(SEGMENT));
            long took = (System.nanoTime() - again) / 1_000_000;
            // The message proves that nothing was tried; the bound only keeps it honest on a loaded machine.
            assertTrue(took < 1000, "a remembered host costs nothing; took " + took + " ms");
            assertTrue(e.getMessage().contains("host is skipped without trying"), e.getMessage());
        }
    }
}

// Proves the reachability gate on real loopback sockets: refused and blackholed ports, and a memory that outlives the
// process.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.archive.HostReachability.Result;
import io.zpitr.archive.HostReachability.Status;
import io.zpitr.archive.SshTestHosts.ManualClock;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostReachabilityTest {
    /** A loopback address of its own, away from the 127.0.0.2-250 range the sshd fixtures use. */
    private static final String HOST = "127.0.0.253";

    private static final Duration DOWN_FOR = Duration.ofSeconds(60);
    private static final Duration TIMEOUT = Duration.ofMillis(700);

    @TempDir
    Path stateDir;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-20T04:01:00Z"));

    @Test
    void aRefusedPortFailsFastAndIsRememberedByTheNextProcess() throws IOException {
        int port = closedPort();
        HostReachability first = new HostReachability(stateDir, DOWN_FOR, clock);

        long start = System.nanoTime();
        Result result = first.check(HOST, port, Duration.ofSeconds(5));
        long took = millisSince(start);

        assertEquals(Status.DOWN, result.status());
        assertTrue(result.reason().startsWith("connection refused"), result.reason());
        assertTrue(took < 1000, "a refused connect must not wait for the 5 s timeout; took " + took + " ms");
        assertEquals(clock.instant().plus(DOWN_FOR), result.downUntil());
        Path record = stateDir.resolve("down").resolve(HOST + "_" + port);
        assertEquals(
                Long.toString(clock.instant().plus(DOWN_FOR).toEpochMilli()),
                Files.readString(record).strip());

        // Another process: a new instance on the same state dir. The port now accepts connections,
        // yet the verdict comes from memory: nothing connects to it.
        try (ServerSocket listener = listen(port)) {
            HostReachability later = new HostReachability(stateDir, DOWN_FOR, clock);
            start = System.nanoTime();
            Result remembered = later.check(HOST, port, Duration.ofSeconds(5));
            took = millisSince(start);

            assertEquals(Status.REMEMBERED_DOWN, remembered.status());
            assertFalse(remembered.isUp());
            assertTrue(remembered.reason().contains(record.toString()), remembered.reason());
            // Generous for a loaded machine: a connect would take the 5 s timeout, and the listener proves none came.
            assertTrue(took < 1000, "a remembered host must be skipped at once; took " + took + " ms");
            listener.setSoTimeout(200);
            assertThrows(SocketTimeoutException.class, listener::accept, "the remembered check connected");
        }
    }

    @Test
    void afterDownForTheHostIsTriedAgainAndForgottenWhenItAnswers() throws IOException {
        int port = closedPort();
        HostReachability reachability = new HostReachability(stateDir, DOWN_FOR, clock);
        assertEquals(Status.DOWN, reachability.check(HOST, port, TIMEOUT).status());

        clock.advance(DOWN_FOR.minusSeconds(1));
        assertEquals(
                Status.REMEMBERED_DOWN, reachability.check(HOST, port, TIMEOUT).status());

        clock.advance(Duration.ofSeconds(1));
        try (ServerSocket listener = listen(port)) {
            assertTrue(listener.isBound());
            Result result = reachability.check(HOST, port, TIMEOUT);
            assertEquals(Status.UP, result.status());
            assertTrue(result.isUp());
            assertEquals(null, result.downUntil());
        }
        assertFalse(Files.exists(stateDir.resolve("down").resolve(HOST + "_" + port)), "an answer clears the record");
        assertTrue(reachability.downUntil(HOST, port).isEmpty());
    }

    @Test
    void aStillDeadHostIsRememberedAgainAfterDownFor() throws IOException {
        int port = closedPort();
        HostReachability reachability = new HostReachability(stateDir, DOWN_FOR, clock);
        Instant firstUntil = reachability.check(HOST, port, TIMEOUT).downUntil();
        clock.advance(DOWN_FOR.plusSeconds(5));
        Result again = reachability.check(HOST, port, TIMEOUT);
        assertEquals(Status.DOWN, again.status());
        assertEquals(firstUntil.plus(DOWN_FOR).plusSeconds(5), again.downUntil());
    }

    /**
     * A real blackhole on loopback: Linux drops the SYN of a connection to a listener whose accept
     * queue is full, so the connect gets no answer at all, as with a dead or firewalled host.
     */
    @Test
    void aHostThatDoesNotAnswerCostsOneConnectTimeout() throws IOException {
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(new InetSocketAddress(HOST, 0), 1);
            List<Socket> fillers = fillAcceptQueue(listener);
            try {
                HostReachability reachability = new HostReachability(stateDir, DOWN_FOR, clock);
                long start = System.nanoTime();
                Result result = reachability.check(HOST, listener.getLocalPort(), TIMEOUT);
                long took = millisSince(start);

                assertEquals(Status.DOWN, result.status());
                assertEquals("no answer within 700 ms", result.reason());
                assertTrue(took >= 650 && took < 3000, "the connect must be bounded by 700 ms; took " + took + " ms");

                start = System.nanoTime();
                assertEquals(
                        Status.REMEMBERED_DOWN,
                        reachability
                                .check(HOST, listener.getLocalPort(), TIMEOUT)
                                .status());
                assertTrue(millisSince(start) < 100);
            } finally {
                for (Socket s : fillers) {
                    s.close();
                }
            }
        }
    }

    @Test
    void theRecordIsWrittenAtomicallyAndAGarbledOneIsIgnored() throws IOException {
        HostReachability reachability = new HostReachability(stateDir, DOWN_FOR, clock);
        reachability.markDown(HOST, 2222);
        reachability.markDown(HOST, 2222);
        try (Stream<Path> files = Files.list(stateDir.resolve("down"))) {
            assertEquals(
                    List.of(HOST + "_2222"),
                    files.map(p -> p.getFileName().toString()).toList(),
                    "no temporary files are left behind");
        }
        Files.writeString(stateDir.resolve("down").resolve(HOST + "_2222"), "not a number\n");
        assertTrue(reachability.downUntil(HOST, 2222).isEmpty());
    }

    @Test
    void aStateDirThatCannotBeWrittenDoesNotChangeTheVerdict() throws IOException {
        Path notADir = Files.writeString(stateDir.resolve("file"), "x");
        HostReachability reachability = new HostReachability(notADir, DOWN_FOR, clock);
        assertEquals(
                Status.DOWN, reachability.check(HOST, closedPort(), TIMEOUT).status());
    }

    @Test
    void aHostNameThatCannotBeAFileNameIsRefused() {
        HostReachability reachability = new HostReachability(stateDir, DOWN_FOR, clock);
        assertThrows(IllegalArgumentException.class, () -> reachability.check("../../etc", 22, TIMEOUT));
        assertThrows(IllegalArgumentException.class, () -> reachability.markDown("a/b", 22));
        assertThrows(IllegalArgumentException.class, () -> reachability.markDown(HOST, 0));
    }

    // ---------------------------------------------------------------------------------------

    /** A port on HOST that nothing listens on (bound a moment ago, then released). */
    private static int closedPort() throws IOException {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(HOST, 0));
            return probe.getLocalPort();
        }
    }

    private static ServerSocket listen(int port) throws IOException {
        ServerSocket listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new InetSocketAddress(HOST, port));
        return listener;
    }

    /** Connects without accepting until a connect gets no answer: from then on SYNs are dropped. */
    private static List<Socket> fillAcceptQueue(ServerSocket listener) throws IOException {
        List<Socket> fillers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Socket s = new Socket();
            try {
                s.connect(listener.getLocalSocketAddress(), 200);
                fillers.add(s);
            } catch (SocketTimeoutException full) {
                s.close();
                return fillers;
            }
        }
        throw new IllegalStateException("the accept queue never filled; cannot make a blackhole here");
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}

// The port of a restored instance: never one that another server holds on either loopback address.
package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.zpitr.appliance.error.ZpitrException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RestorePortsTest {
    @Test
    void skipsAPortHeldOnIpv4Loopback() throws IOException {
        try (ServerSocket held = listen("127.0.0.1")) {
            int port = held.getLocalPort();
            assertNotEquals(port, RestorePorts.choose(0, port, Set.of()));
            ZpitrException e = assertThrows(ZpitrException.class, () -> RestorePorts.choose(port, port, Set.of()));
            assertEquals(
                    "port " + port + " is in use",
                    e.getMessage().lines().findFirst().orElse(""));
        }
    }

    @Test
    void skipsAPortHeldOnIpv6LoopbackOnly() throws IOException {
        ServerSocket held;
        try {
            held = listen("::1");
        } catch (IOException noIpv6) {
            return; // this machine has no ::1; PostgreSQL's "localhost" is 127.0.0.1 alone there
        }
        try (held) {
            int port = held.getLocalPort();
            assertNotEquals(port, RestorePorts.choose(0, port, Set.of()));
        }
    }

    @Test
    void skipsOtherRestoresPorts() throws IOException {
        int port;
        try (ServerSocket probe = listen("127.0.0.1")) {
            port = probe.getLocalPort();
        }
        assertNotEquals(port, RestorePorts.choose(0, port, Set.of(port)));
    }

    private static ServerSocket listen(String address) throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress(address, 0));
        return s;
    }
}

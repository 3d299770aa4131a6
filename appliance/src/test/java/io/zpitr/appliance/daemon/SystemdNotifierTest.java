package io.zpitr.appliance.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sd_notify messages arrive, through the real libsystemd, on a real Unix datagram socket of the test's. */
class SystemdNotifierTest {
    /** The libc calls a receiving datagram socket needs (Java has none for AF_UNIX datagrams). */
    public interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int socket(int domain, int type, int protocol);

        int bind(int fd, SockaddrUn address, int length);

        long recv(int fd, byte[] buffer, long length, int flags);

        int close(int fd);

        int setenv(String name, String value, int overwrite);

        int unsetenv(String name);
    }

    /** struct sockaddr_un. */
    @Structure.FieldOrder({"family", "path"})
    public static class SockaddrUn extends Structure {
        public short family = 1; // AF_UNIX
        public byte[] path = new byte[108];
    }

    @TempDir
    Path dir;

    @Test
    void messagesArriveOnTheNotifySocket() {
        Path socket = dir.resolve("notify.sock");
        int fd = LibC.INSTANCE.socket(1, 2 | 0x800 /* SOCK_DGRAM | SOCK_NONBLOCK */, 0);
        assertTrue(fd >= 0);
        try {
            SockaddrUn address = new SockaddrUn();
            byte[] p = socket.toString().getBytes(StandardCharsets.UTF_8);
            System.arraycopy(p, 0, address.path, 0, p.length);
            address.write();
            assertEquals(0, LibC.INSTANCE.bind(fd, address, 2 + p.length + 1));
            LibC.INSTANCE.setenv("NOTIFY_SOCKET", socket.toString(), 1);

            SystemdNotifier notifier = SystemdNotifier.forThisProcess(socket.toString());
            assertTrue(notifier.active());
            notifier.ready("next snapshot 04:01");
            notifier.watchdog();
            notifier.stopping("SIGTERM received");

            List<String> received = new ArrayList<>();
            byte[] buffer = new byte[4096];
            long n;
            while ((n = LibC.INSTANCE.recv(fd, buffer, buffer.length, 0)) > 0) {
                received.add(new String(buffer, 0, (int) n, StandardCharsets.UTF_8));
            }
            assertEquals(
                    List.of("READY=1\nSTATUS=next snapshot 04:01", "WATCHDOG=1", "STOPPING=1\nSTATUS=SIGTERM received"),
                    received);
        } finally {
            LibC.INSTANCE.unsetenv("NOTIFY_SOCKET");
            LibC.INSTANCE.close(fd);
        }
        assertTrue(Files.exists(socket));
    }

    @Test
    void withoutANotifySocketItIsSilent() {
        assertFalse(SystemdNotifier.forThisProcess(null).active());
        SystemdNotifier.forThisProcess("").ready("x"); // no-op, no error
    }
}

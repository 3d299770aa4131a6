// Test support: a real Unix datagram socket standing in for systemd's NOTIFY_SOCKET.
package io.zpitr.appliance.daemon;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Receives sd_notify datagrams the way systemd does (libc socket/bind/recv through JNA). */
final class NotifySocket implements AutoCloseable {
    private final int fd;
    private final Path path;
    private final List<String> received = new ArrayList<>();

    private NotifySocket(int fd, Path path) {
        this.fd = fd;
        this.path = path;
    }

    static NotifySocket bind(Path path) {
        int fd = SystemdNotifierTest.LibC.INSTANCE.socket(1, 2 | 0x800 /* SOCK_DGRAM | SOCK_NONBLOCK */, 0);
        if (fd < 0) {
            throw new IllegalStateException("socket() failed");
        }
        SystemdNotifierTest.SockaddrUn address = new SystemdNotifierTest.SockaddrUn();
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        System.arraycopy(p, 0, address.path, 0, p.length);
        address.write();
        if (SystemdNotifierTest.LibC.INSTANCE.bind(fd, address, 2 + p.length + 1) != 0) {
            SystemdNotifierTest.LibC.INSTANCE.close(fd);
            throw new IllegalStateException("bind(" + path + ") failed");
        }
        return new NotifySocket(fd, path);
    }

    Path path() {
        return path;
    }

    /** Every message received so far. */
    synchronized List<String> messages() {
        byte[] buffer = new byte[4096];
        long n;
        while ((n = SystemdNotifierTest.LibC.INSTANCE.recv(fd, buffer, buffer.length, 0)) > 0) {
            received.add(new String(buffer, 0, (int) n, StandardCharsets.UTF_8));
        }
        return List.copyOf(received);
    }

    /** The first message matching {@code what}, waiting for it up to {@code limit}. */
    String await(Predicate<String> what, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            for (String m : messages()) {
                if (what.test(m)) {
                    return m;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no matching sd_notify message within " + limit + "; received " + messages());
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        SystemdNotifierTest.LibC.INSTANCE.close(fd);
    }
}

// Picks the port a restored instance listens on.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.error.ZpitrError;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;

/** The port asked for, if free; else the first free one from {@code restore.port} on, skipping other restores'. */
final class RestorePorts {
    private static final int SPAN = 100;

    private RestorePorts() {}

    static int choose(int asked, int first, Set<Integer> takenByRestores) {
        if (asked > 0) {
            if (!free(asked) || takenByRestores.contains(asked)) {
                throw ZpitrError.INVALID_ARGUMENT.exception(
                        "port " + asked + " is in use\nHINT: choose another --port, or leave it out");
            }
            return asked;
        }
        for (int p = first; p < first + SPAN && p <= 65535; p++) {
            if (!takenByRestores.contains(p) && free(p)) {
                return p;
            }
        }
        throw ZpitrError.FAILED.exception("no free port from " + first + " to " + (first + SPAN - 1)
                + "\nHINT: drop restores you no longer need (zpitr restores), or set restore.port elsewhere");
    }

    /**
     * Free on both loopback addresses: the instance listens on {@code localhost}, which PostgreSQL
     * binds on 127.0.0.1 and on ::1 where the machine has IPv6, and it refuses to start when either
     * is taken (another server that listens on ::1 only leaves 127.0.0.1 free).
     */
    static boolean free(int port) {
        return bindable("127.0.0.1", port) && (!ipv6Loopback() || bindable("::1", port));
    }

    private static boolean bindable(String address, int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(address, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean ipv6Loopback() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("::1", 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}

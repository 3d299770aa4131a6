// Tells systemd how the daemon is doing (Type=notify): ready, status, watchdog, stopping.
package io.zpitr.appliance.daemon;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sd_notify(3)} through JNA, the one native call the JDK lacks here: its datagram goes to a
 * Unix socket ({@code NOTIFY_SOCKET}), which Java's socket API cannot send to. Without
 * {@code NOTIFY_SOCKET} (not started by systemd) every call is a no-op; without libsystemd, the
 * notifier says so once and stays silent.
 */
public final class SystemdNotifier {
    private static final Logger LOG = LoggerFactory.getLogger(SystemdNotifier.class);

    /** The one function used from libsystemd. */
    interface LibSystemd extends Library {
        int sd_notify(int unsetEnvironment, String state);
    }

    private final LibSystemd lib;

    private SystemdNotifier(LibSystemd lib) {
        this.lib = lib;
    }

    /** A notifier for this process: active only when systemd gave it a NOTIFY_SOCKET. */
    public static SystemdNotifier forThisProcess(String notifySocket) {
        if (notifySocket == null || notifySocket.isEmpty()) {
            return new SystemdNotifier(null);
        }
        try {
            return new SystemdNotifier(Native.load("libsystemd.so.0", LibSystemd.class));
        } catch (UnsatisfiedLinkError e) {
            LOG.warn(
                    "NOTIFY_SOCKET is set but libsystemd.so.0 cannot be loaded ({}); systemd will not hear from zpitr",
                    e.getMessage());
            return new SystemdNotifier(null);
        }
    }

    public boolean active() {
        return lib != null;
    }

    public void ready(String status) {
        send("READY=1\nSTATUS=" + oneLine(status));
    }

    public void status(String status) {
        send("STATUS=" + oneLine(status));
    }

    public void watchdog() {
        send("WATCHDOG=1");
    }

    public void stopping(String status) {
        send("STOPPING=1\nSTATUS=" + oneLine(status));
    }

    private void send(String state) {
        if (lib == null) {
            return;
        }
        int rc = lib.sd_notify(0, state);
        if (rc < 0) {
            LOG.warn("sd_notify failed with {}", rc);
        }
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ');
    }
}

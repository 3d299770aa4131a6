// Turns SIGTERM and SIGINT into a clean stop of the daemon, and covers any other JVM shutdown.
package io.zpitr.appliance.daemon;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * How a daemon hears that it should stop. SIGTERM (systemd's stop) and SIGINT (Ctrl-C) get their
 * own handlers, which only ask the daemon to stop: the daemon's main thread then stops it and the
 * command returns 0, so the process exits with 0. The JVM's default for these signals is a
 * shutdown with status 143 or 130, which systemd would count as a failure. A shutdown hook covers
 * every other way the JVM shuts down (SIGHUP, a System.exit elsewhere): it asks for the stop and
 * waits, bounded, for it to finish, so a running snapshot completes first.
 *
 * <p>{@code sun.misc.Signal} lives in the JDK's supported {@code jdk.unsupported} module; where
 * a signal cannot be handled (a JVM run with {@code -Xrs}), the shutdown hook still stops cleanly.
 */
public final class StopSignals implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StopSignals.class);
    /** Longer than the snapshot lock wait (60 s), shorter than systemd's default stop timeout (90 s). */
    private static final Duration HOOK_WAIT = Duration.ofSeconds(85);

    private record Installed(Signal signal, SignalHandler previous) {}

    private final List<Installed> installed;
    private final Thread hook;

    private StopSignals(List<Installed> installed, Thread hook) {
        this.installed = installed;
        this.hook = hook;
    }

    public static StopSignals install(Daemon daemon) {
        List<Installed> installed = new ArrayList<>();
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal signal = new Signal(name);
                installed.add(new Installed(
                        signal, Signal.handle(signal, s -> daemon.requestStop("SIG" + s.getName()))));
            } catch (IllegalArgumentException e) {
                LOG.warn(
                        "cannot handle SIG{} ({}); a stop through it exits with the JVM's status, after a clean stop",
                        name,
                        e.getMessage());
            }
        }
        Thread hook = new Thread(
                () -> {
                    daemon.requestStop("JVM shutdown");
                    try {
                        if (!daemon.awaitStopped(HOOK_WAIT)) {
                            LOG.warn("the daemon did not stop within {} s; exiting anyway", HOOK_WAIT.toSeconds());
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                "zpitr-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        return new StopSignals(installed, hook);
    }

    /** Restores the previous signal handlers and removes the hook (when the JVM is not already shutting down). */
    @Override
    public void close() {
        for (Installed i : installed) {
            Signal.handle(i.signal(), i.previous());
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down: the hook is running or has run.
        }
    }
}

// Keeps systemd's watchdog fed (WATCHDOG=1 every WATCHDOG_USEC/2) while the scheduler is alive.
package io.zpitr.appliance.daemon;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The watchdog pinger: a daemon thread sending {@code WATCHDOG=1} at half the interval systemd
 * asked for ({@code WatchdogSec=} in the unit), and only while the scheduler says it is alive, so a
 * dead scheduler gets the service restarted.
 */
final class Watchdog implements AutoCloseable {
    private final ScheduledExecutorService pinger;

    private Watchdog(ScheduledExecutorService pinger) {
        this.pinger = pinger;
    }

    /**
     * Half of {@code WATCHDOG_USEC}, when systemd set it for this process ({@code WATCHDOG_PID}
     * absent or ours); empty otherwise.
     */
    static Optional<Duration> interval(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null || usec.isBlank()) {
            return Optional.empty();
        }
        String forPid = env.get("WATCHDOG_PID");
        if (forPid != null && !forPid.isBlank() && !forPid.strip().equals(Long.toString(pid))) {
            return Optional.empty();
        }
        try {
            long micros = Long.parseLong(usec.strip());
            return micros <= 0 ? Optional.empty() : Optional.of(Duration.ofNanos(micros * 1000 / 2));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    static Watchdog start(Duration every, BooleanSupplier alive, Runnable ping) {
        ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "zpitr-watchdog");
            t.setDaemon(true);
            return t;
        });
        long nanos = Math.max(1_000_000, every.toNanos());
        pinger.scheduleAtFixedRate(
                () -> {
                    if (alive.getAsBoolean()) {
                        ping.run();
                    }
                },
                0,
                nanos,
                TimeUnit.NANOSECONDS);
        return new Watchdog(pinger);
    }

    @Override
    public void close() {
        pinger.shutdownNow();
    }
}

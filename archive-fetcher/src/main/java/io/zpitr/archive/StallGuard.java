// Ends a network call that has made no progress for io_timeout, by running a cut-off action from another thread.
package io.zpitr.archive;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A watch over one blocking network call whose library offers no timeout of its own (a JSch SFTP
 * request waits on a pipe for as long as the session lives). While the watch is open, a shared
 * timer checks it a few times per {@code limit}; once no {@link Watch#progress() progress} was
 * reported for {@code limit}, it runs the cut-off action once (say, disconnecting the session, which
 * makes the blocked call fail) and the watch reports {@link Watch#fired()}.
 *
 * <p>No thread runs while no watch is open but the timer's, which sleeps.
 */
final class StallGuard {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "zpitr-stall-guard");
        t.setDaemon(true);
        return t;
    });

    private StallGuard() {}

    /** Starts watching; close the watch when the call returns. */
    static Watch watch(Duration limit, Runnable cutOff) {
        return new Watch(limit, cutOff);
    }

    /** One watched call. */
    static final class Watch implements AutoCloseable {
        private final long limitNanos;
        private final Runnable cutOff;
        private final AtomicBoolean fired = new AtomicBoolean();
        private final ScheduledFuture<?> check;
        private volatile long lastProgressNanos = System.nanoTime();

        private Watch(Duration limit, Runnable cutOff) {
            this.limitNanos = limit.toNanos();
            this.cutOff = cutOff;
            long period = Math.max(10, Math.min(250, limit.toMillis() / 4));
            this.check = TIMER.scheduleWithFixedDelay(this::check, period, period, TimeUnit.MILLISECONDS);
        }

        /** The call moved forward (bytes arrived): the limit counts from now. */
        void progress() {
            lastProgressNanos = System.nanoTime();
        }

        /** Whether the cut-off ran: the call's failure is the stall, whatever it says itself. */
        boolean fired() {
            return fired.get();
        }

        /** Seconds since the last progress, for messages. */
        double stalledSeconds() {
            return (System.nanoTime() - lastProgressNanos) / 1e9;
        }

        private void check() {
            if (System.nanoTime() - lastProgressNanos > limitNanos && fired.compareAndSet(false, true)) {
                ScheduledFuture<?> self = check; // null only if this ran before the constructor ended
                if (self != null) {
                    self.cancel(false);
                }
                cutOff.run();
            }
        }

        @Override
        public void close() {
            check.cancel(false);
        }
    }
}

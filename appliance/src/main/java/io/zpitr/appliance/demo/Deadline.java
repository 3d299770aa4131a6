// Waits for a condition with a time limit: the demo never sleeps a fixed time for correctness.
package io.zpitr.appliance.demo;

import io.zpitr.appliance.error.ZpitrError;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds or the time is up; the failure says what was awaited and why it may not have come. */
final class Deadline {
    private static final long POLL_MILLIS = 100;

    private Deadline() {}

    /**
     * Returns once {@code condition} holds.
     *
     * @param what    what is awaited, for the error ("the standby to replay to 0/5000000")
     * @param details what to add to the error on time-out (a log tail), computed only then
     * @throws IllegalStateException when {@code limit} passes first
     */
    static void await(String what, Duration limit, BooleanSupplier condition, Supplier<String> details) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                String more = details.get();
                throw ZpitrError.FAILED.exception("gave up waiting for " + what + " after " + limit.toSeconds() + " s"
                        + (more == null || more.isBlank() ? "" : "\n" + more.strip()));
            }
            pause(POLL_MILLIS);
        }
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ZpitrError.FAILED.exception("interrupted", e);
        }
    }
}

// When a failed job is tried again: a fixed list of delays, each counted from the failure before it.
package io.zpitr.appliance.daemon;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The retry policy of a failed job. After the scheduled run (attempt 0) fails, retry 1 runs
 * {@code delays[0]} after that failure; if it fails too, retry 2 runs {@code delays[1]} after it;
 * and so on. When the delays are used up the job waits for its next scheduled run. A success at any
 * point, or a new scheduled run, replaces whatever retries were pending.
 *
 * @param delays the waits before retry 1, 2, ...; empty means no retries
 */
public record RetryPolicy(List<Duration> delays) {
    /** What the daemon uses: retries 1, 5 and 15 minutes after each failure (documented in docs/daemon.md). */
    public static final RetryPolicy DEFAULT =
            new RetryPolicy(List.of(Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15)));

    public RetryPolicy {
        delays = List.copyOf(delays);
        for (Duration d : delays) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("a retry delay must not be negative: " + d);
            }
        }
    }

    /** How many retries follow a failed scheduled run. */
    public int retries() {
        return delays.size();
    }

    /**
     * The wait before the next try after the run numbered {@code failedAttempt} failed (0 = the
     * scheduled or catch-up run, n = retry n); empty when no retry is left.
     */
    public Optional<Duration> after(int failedAttempt) {
        return failedAttempt >= 0 && failedAttempt < delays.size()
                ? Optional.of(delays.get(failedAttempt))
                : Optional.empty();
    }
}

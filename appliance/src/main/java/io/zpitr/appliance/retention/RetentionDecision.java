// The verdict on one snapshot set: keep (with every reason) or destroy (with why not kept).
package io.zpitr.appliance.retention;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Retention's answer for one set. A kept set lists every rule that keeps it, in {@link
 * RetentionReason.Rule} order; a destroyed set has exactly one reason, {@link
 * RetentionReason.Rule#NOT_KEPT}.
 *
 * @param set     the set as it was offered
 * @param kept    {@code true} to keep it, {@code false} to destroy it
 * @param reasons why (never empty)
 */
public record RetentionDecision(RetentionCandidate set, boolean kept, List<RetentionReason> reasons) {
    public RetentionDecision {
        Objects.requireNonNull(set, "set");
        reasons = List.copyOf(reasons);
        boolean notKept = reasons.stream().anyMatch(r -> r.rule() == RetentionReason.Rule.NOT_KEPT);
        if (kept ? reasons.isEmpty() || notKept : reasons.size() != 1 || !notKept) {
            throw new IllegalArgumentException(
                    "a kept set needs keep reasons, a destroyed one exactly NOT_KEPT: " + set.id() + " " + reasons);
        }
    }

    public String id() {
        return set.id();
    }

    public Instant created() {
        return set.created();
    }

    /** {@code true} when the set is to be destroyed. */
    public boolean destroy() {
        return !kept;
    }

    /** Whether {@code rule} is among the reasons. */
    public boolean has(RetentionReason.Rule rule) {
        return reasons.stream().anyMatch(r -> r.rule() == rule);
    }

    /** The reasons as one line, e.g. {@code newest, keep_within 24h, daily 2026-11-20}. */
    public String reasonText() {
        return reasons.stream().map(RetentionReason::text).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return (kept ? "keep " : "destroy ") + set.id() + " (" + reasonText() + ")";
    }
}

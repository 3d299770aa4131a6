// Why retention keeps or destroys a snapshot set: a rule for code, a sentence for people.
package io.zpitr.appliance.retention;

import java.util.Objects;

/**
 * One reason in a {@link RetentionDecision}. {@link #text()} is what {@code zpitr prune} prints
 * (e.g. {@code daily 2026-11-20}); {@link #rule()} is for code, e.g. {@code zpitr list} showing the
 * classes that keep a set.
 *
 * @param rule which rule gave this reason
 * @param text the reason as printed, including the period or duration it refers to
 */
public record RetentionReason(Rule rule, String text) {
    public RetentionReason {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(text, "text");
    }

    /** The rules, in the order their reasons appear in a decision. */
    public enum Rule {
        /** The newest set of all (by creation); always kept. Text: {@code newest}. */
        NEWEST,
        /**
         * The newest set not in the future, given only when the newest of all is in the future (clock
         * skew): the latest trustworthy restore base is kept too. Text: {@code newest not in the future}.
         */
        NEWEST_PAST,
        /** Created after the clock's now. Text: {@code in the future by 5m (clock skew?)}. */
        IN_FUTURE,
        /** Created within {@code keep_within} before now. Text: {@code keep_within 24h}. */
        KEEP_WITHIN,
        /** Newest of one of the last {@code hourly} hours. Text: {@code hourly 2026-10-25T02:00+01:00}. */
        HOURLY,
        /** Newest of one of the last {@code daily} days. Text: {@code daily 2026-11-20}. */
        DAILY,
        /** Newest of one of the last {@code weekly} ISO weeks. Text: {@code weekly 2026-W47}. */
        WEEKLY,
        /** Newest of one of the last {@code monthly} months. Text: {@code monthly 2026-11}. */
        MONTHLY,
        /** Newest of one of the last {@code yearly} years. Text: {@code yearly 2026}. */
        YEARLY,
        /** Has ZFS user holds. Text: {@code held}. */
        HELD,
        /** Restore clones depend on it. Text: {@code has restore clones}. */
        HAS_CLONES,
        /** A replication target's cursor hold is on it. Text: {@code replication cursor dr1}. */
        REPLICATION_CURSOR,
        /** The only reason of a destroyed set. Text: {@code not kept by any rule (age 40d 3h)}. */
        NOT_KEPT
    }

    @Override
    public String toString() {
        return text;
    }
}

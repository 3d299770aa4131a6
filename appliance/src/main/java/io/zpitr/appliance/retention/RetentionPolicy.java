// The retention policy: which snapshot sets to keep, as a pure function of the sets, a zone and a clock.
package io.zpitr.appliance.retention;

import io.zpitr.appliance.retention.RetentionReason.Rule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code retention} section as typed values, and the decision it makes. {@link #decide} reads no
 * ZFS, no files and no system clock: everything comes in as arguments, so the same input always gives
 * the same answer.
 *
 * <h2>Semantics</h2>
 * A set is <b>kept</b> when at least one of these rules keeps it, and <b>destroyed</b> otherwise:
 * <ol>
 *   <li><b>newest</b> — the newest set (latest {@code created}) is always kept. If that set is in the
 *       future (below), the newest set that is not in the future is kept too ("newest not in the
 *       future"), so a skewed clock cannot cost the latest trustworthy restore base.</li>
 *   <li><b>in the future</b> — a set created after {@code clock.instant()} is kept and flagged
 *       ("in the future by 5m (clock skew?)"). Such sets take no part in {@code keep_within} or the
 *       calendar classes, so a set stamped by a wrong clock cannot use up a daily or yearly slot.</li>
 *   <li><b>keep_within</b> — every set with {@code now - keep_within <= created <= now} is kept: the
 *       boundary is <em>inclusive</em> (a set exactly {@code keep_within} old is kept, one a nanosecond
 *       older is not). {@code keep_within} of zero turns the rule off.</li>
 *   <li><b>calendar classes</b> ({@code hourly}, {@code daily}, {@code weekly}, {@code monthly},
 *       {@code yearly}) — grandfather-father-son, as in sanoid, zrepl and pgBackRest. Periods are
 *       calendar periods in {@code zone}, computed with {@link java.time.ZonedDateTime}:
 *       <ul>
 *         <li>hour: the local hour <em>and</em> the UTC offset in force, i.e. the {@code
 *             ZonedDateTime}'s local time truncated to hours, keeping its offset. On a fall-back day
 *             the repeated hour is two hour periods (Berlin {@code 02:00+02:00} then {@code
 *             02:00+01:00}); the hour skipped in spring simply does not occur;</li>
 *         <li>day: the local date; a 23- or 25-hour day is one day;</li>
 *         <li>week: the ISO week ({@link java.time.temporal.WeekFields#ISO}: Monday start, week 1 holds
 *             the first Thursday), labelled by week-based year, so 2027-01-03 is in {@code 2026-W53};</li>
 *         <li>month and year: the local month and year.</li>
 *       </ul>
 *       For a class with count {@code N > 0}, the periods that contain at least one (not future) set
 *       are ranked by their newest set, newest first. In each of the first {@code N} such periods the
 *       <em>newest</em> set of the period is kept — the last snapshot of a day stands for that day.
 *       Periods without sets are skipped and do not count, so {@code daily: 7} keeps seven sets as
 *       long as seven days have sets, however far back. A count of zero turns the class off. Each
 *       class keeps at most {@code N} sets.</li>
 *   <li><b>held</b> and <b>has restore clones</b> — such a set is never destroyed. Protection does not
 *       change what the other rules choose: a held set is still an ordinary member of its periods.</li>
 * </ol>
 * Sets with equal {@code created} are ordered by id; the first of them in that order counts as the
 * newer one. The result does not depend on the order of the input.
 *
 * @param keepWithin keep every set younger than this ({@code keep_within}); zero turns it off
 * @param hourly     how many hours that have sets to keep the newest set of
 * @param daily      how many days that have sets to keep the newest set of
 * @param weekly     how many ISO weeks that have sets to keep the newest set of
 * @param monthly    how many months that have sets to keep the newest set of
 * @param yearly     how many years that have sets to keep the newest set of
 */
public record RetentionPolicy(Duration keepWithin, int hourly, int daily, int weekly, int monthly, int yearly) {

    /** Newest first; equal times by id, so the order never depends on the input's order. */
    static final Comparator<RetentionCandidate> NEWEST_FIRST =
            Comparator.comparing(RetentionCandidate::created).reversed().thenComparing(RetentionCandidate::id);

    public RetentionPolicy {
        Objects.requireNonNull(keepWithin, "keepWithin");
        if (keepWithin.isNegative()) {
            throw new IllegalArgumentException("retention keep_within must not be negative: " + keepWithin);
        }
        requireCount("hourly", hourly);
        requireCount("daily", daily);
        requireCount("weekly", weekly);
        requireCount("monthly", monthly);
        requireCount("yearly", yearly);
    }

    private static void requireCount(String key, int count) {
        if (count < 0) {
            throw new IllegalArgumentException("retention " + key + " must be 0 or more, not " + count);
        }
    }

    /**
     * Decides, for every set, keep or destroy and why (see the class comment for the rules).
     *
     * @param sets  the snapshot sets; ids must be unique
     * @param zone  the configured {@code timezone}: the calendar of the classes
     * @param clock gives "now" ({@code clock.instant()}); its own zone is not used
     * @return one decision per set, newest first
     * @throws IllegalArgumentException when two sets share an id
     */
    public List<RetentionDecision> decide(Collection<RetentionCandidate> sets, ZoneId zone, Clock clock) {
        Objects.requireNonNull(zone, "zone");
        Instant now = clock.instant();
        List<RetentionCandidate> ordered = new ArrayList<>(sets);
        requireUniqueIds(ordered);
        ordered.sort(NEWEST_FIRST);

        // Reasons are added rule by rule, in Rule order, so each list comes out in that order.
        List<List<RetentionReason>> reasons = new ArrayList<>();
        List<Integer> past = new ArrayList<>();
        for (int i = 0; i < ordered.size(); i++) {
            reasons.add(new ArrayList<>());
            if (!ordered.get(i).created().isAfter(now)) {
                past.add(i);
            }
        }
        if (!ordered.isEmpty()) {
            reasons.get(0).add(new RetentionReason(Rule.NEWEST, "newest"));
            if (ordered.get(0).created().isAfter(now) && !past.isEmpty()) {
                reasons.get(past.get(0)).add(new RetentionReason(Rule.NEWEST_PAST, "newest not in the future"));
            }
        }
        for (int i = 0; i < ordered.size(); i++) {
            Instant created = ordered.get(i).created();
            if (created.isAfter(now)) {
                reasons.get(i)
                        .add(new RetentionReason(
                                Rule.IN_FUTURE,
                                "in the future by " + age(Duration.between(now, created)) + " (clock skew?)"));
            }
        }
        if (!keepWithin.isZero()) {
            String text = "keep_within " + configText(keepWithin);
            for (int i : past) {
                if (Duration.between(ordered.get(i).created(), now).compareTo(keepWithin) <= 0) {
                    reasons.get(i).add(new RetentionReason(Rule.KEEP_WITHIN, text));
                }
            }
        }
        keepNewestPerPeriod(Rule.HOURLY, "hourly", CalendarPeriod.HOUR, hourly, ordered, past, zone, reasons);
        keepNewestPerPeriod(Rule.DAILY, "daily", CalendarPeriod.DAY, daily, ordered, past, zone, reasons);
        keepNewestPerPeriod(Rule.WEEKLY, "weekly", CalendarPeriod.WEEK, weekly, ordered, past, zone, reasons);
        keepNewestPerPeriod(Rule.MONTHLY, "monthly", CalendarPeriod.MONTH, monthly, ordered, past, zone, reasons);
        keepNewestPerPeriod(Rule.YEARLY, "yearly", CalendarPeriod.YEAR, yearly, ordered, past, zone, reasons);
        for (int i = 0; i < ordered.size(); i++) {
            if (ordered.get(i).held()) {
                reasons.get(i).add(new RetentionReason(Rule.HELD, "held"));
            }
        }
        for (int i = 0; i < ordered.size(); i++) {
            if (ordered.get(i).hasClones()) {
                reasons.get(i).add(new RetentionReason(Rule.HAS_CLONES, "has restore clones"));
            }
        }
        for (int i = 0; i < ordered.size(); i++) {
            for (String target : ordered.get(i).replicationCursors()) {
                reasons.get(i).add(new RetentionReason(Rule.REPLICATION_CURSOR, "replication cursor " + target));
            }
        }

        List<RetentionDecision> decisions = new ArrayList<>(ordered.size());
        for (int i = 0; i < ordered.size(); i++) {
            RetentionCandidate set = ordered.get(i);
            if (reasons.get(i).isEmpty()) {
                // Only past sets get here: a future one is always kept.
                decisions.add(new RetentionDecision(
                        set,
                        false,
                        List.of(new RetentionReason(
                                Rule.NOT_KEPT,
                                "not kept by any rule (age " + age(Duration.between(set.created(), now)) + ")"))));
            } else {
                decisions.add(new RetentionDecision(set, true, reasons.get(i)));
            }
        }
        return List.copyOf(decisions);
    }

    /** Walks {@code past} (newest first) and keeps the first set met in each of the first {@code count} periods. */
    private static void keepNewestPerPeriod(
            Rule rule,
            String key,
            CalendarPeriod period,
            int count,
            List<RetentionCandidate> ordered,
            List<Integer> past,
            ZoneId zone,
            List<List<RetentionReason>> reasons) {
        if (count == 0) {
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i : past) {
            String label = period.label(ordered.get(i).created(), zone);
            if (seen.contains(label)) {
                continue;
            }
            if (seen.size() == count) {
                return;
            }
            seen.add(label);
            reasons.get(i).add(new RetentionReason(rule, key + " " + label));
        }
    }

    private static void requireUniqueIds(List<RetentionCandidate> sets) {
        Set<String> ids = new HashSet<>();
        for (RetentionCandidate set : sets) {
            if (!ids.add(set.id())) {
                throw new IllegalArgumentException("snapshot set '" + set.id() + "' is offered to retention twice");
            }
        }
    }

    /**
     * A duration in the configuration's form (500ms, 90s, 5m, 24h, 7d): the largest unit that divides
     * it, but hours up to 47h, so {@code 24h} reads back as written rather than as {@code 1d}.
     */
    static String configText(Duration d) {
        long seconds = d.getSeconds();
        int nanos = d.getNano();
        if (nanos % 1_000_000 != 0) {
            return d.toString();
        }
        if (nanos != 0) {
            return (seconds * 1000 + nanos / 1_000_000) + "ms";
        }
        if (seconds % 86_400 == 0 && seconds >= 2 * 86_400) {
            return seconds / 86_400 + "d";
        }
        if (seconds % 3600 == 0 && seconds > 0) {
            return seconds / 3600 + "h";
        }
        if (seconds % 60 == 0 && seconds > 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }

    /** An age for people: {@code 40d 3h 12m}, zero parts left out; seconds only under a minute. */
    static String age(Duration d) {
        long seconds = d.getSeconds();
        if (seconds < 60) {
            return seconds + "s";
        }
        long days = seconds / 86_400;
        long hours = seconds % 86_400 / 3600;
        long minutes = seconds % 3600 / 60;
        StringBuilder text = new StringBuilder();
        if (days > 0) {
            text.append(days).append('d');
        }
        if (hours > 0) {
            text.append(text.length() > 0 ? " " : "").append(hours).append('h');
        }
        if (minutes > 0) {
            text.append(text.length() > 0 ? " " : "").append(minutes).append('m');
        }
        return text.toString();
    }
}

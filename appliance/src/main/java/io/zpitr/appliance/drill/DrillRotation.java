// Which retained snapshot set a scheduled drill proves next, and which sets are overdue for proof.
package io.zpitr.appliance.drill;

import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.schedule.Schedule;
import io.zpitr.appliance.snapshot.SnapshotSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Pure over the sets, a period and a clock reading.
 *
 * <p>A set is <b>proven</b> at its {@code zpitr:verified_at} when its last drill passed. With a
 * period ({@code drill.prove_within}) a set is <b>overdue</b> when it was never drilled, when its
 * last drill did not pass (failed, or not restorable: the set is not proven, however recent the
 * drill), or when that drill passed longer than the period ago. Without a period no set is overdue.
 *
 * <p>The scheduled drill takes overdue sets first, then the rest; within each group a set never
 * drilled comes first (the oldest of those, the closest to being pruned unproven), else the one
 * whose last drill is oldest. Drilling the result on every run rotates through all retained sets,
 * so N sets are each proven within N runs; a set whose drill keeps failing is drilled again on each
 * run while the others are still within their period, and takes its turn by age once they are not.
 */
public final class DrillRotation {
    private static final Comparator<SnapshotSet> PROVEN_LONGEST_AGO = Comparator.comparing(
                    (SnapshotSet s) -> s.verifiedAt() == null ? Instant.MIN : s.verifiedAt())
            .thenComparing(SnapshotSet::created);

    private DrillRotation() {}

    /** The set the next scheduled drill proves, without a period: never drilled first, then proven longest ago. */
    public static Optional<SnapshotSet> next(List<SnapshotSet> sets) {
        return next(sets, Optional.empty(), Instant.EPOCH);
    }

    /** The set the next scheduled drill proves: an overdue one first; in each group never drilled, then proven longest ago. */
    public static Optional<SnapshotSet> next(List<SnapshotSet> sets, Optional<Duration> proveWithin, Instant now) {
        return sets.stream()
                .min(Comparator.comparing((SnapshotSet s) -> !overdue(s, proveWithin, now))
                        .thenComparing(PROVEN_LONGEST_AGO));
    }

    /** Whether the set lacks a passed drill within the period; false for every set when there is no period. */
    public static boolean overdue(SnapshotSet set, Optional<Duration> proveWithin, Instant now) {
        if (proveWithin.isEmpty()) {
            return false;
        }
        return set.verifiedAt() == null
                || !"passed".equals(set.verified())
                || set.verifiedAt().plus(proveWithin.get()).isBefore(now);
    }

    /**
     * How the retained sets stand against the period, and whether the drill schedule can keep up
     * with it: one drill per run proves N sets in N runs, so a schedule that runs fewer times within
     * the period than there are sets leaves some unproven for longer.
     *
     * @param drillSchedule {@code schedule.drill}, or empty when the daemon drills nothing
     */
    public static Coverage coverage(
            List<SnapshotSet> sets, Optional<Duration> proveWithin, Optional<Schedule> drillSchedule, Instant now) {
        List<String> overdue = sets.stream()
                .filter(s -> overdue(s, proveWithin, now))
                .map(SnapshotSet::id)
                .toList();
        int never = (int) sets.stream().filter(s -> s.verifiedAt() == null).count();
        Optional<Integer> runs = proveWithin.map(period -> drillSchedule
                .map(s -> runsWithin(s, now, now.plus(period), sets.size()))
                .orElse(0));
        return new Coverage(proveWithin, sets.size(), overdue, never, runs);
    }

    /**
     * {@link #coverage(List, Optional, Optional, Instant)} with the period and {@code schedule.drill} of
     * these settings; a schedule that does not parse counts as none (status reports it on the job's line).
     */
    public static Coverage coverage(List<SnapshotSet> sets, Settings settings, Instant now) {
        Optional<Schedule> schedule;
        try {
            schedule = settings.schedule().drill().map(text -> Schedule.parse(text, settings.timezone()));
        } catch (IllegalArgumentException e) {
            schedule = Optional.empty();
        }
        return coverage(sets, settings.drillProveWithin(), schedule, now);
    }

    /** The schedule's runs after {@code from} and at or before {@code until}, counted up to {@code enough}. */
    private static int runsWithin(Schedule schedule, Instant from, Instant until, int enough) {
        int n = 0;
        Instant t = from;
        while (n < enough) {
            Optional<Instant> next = schedule.nextAfter(t);
            if (next.isEmpty() || next.get().isAfter(until)) {
                break;
            }
            n++;
            t = next.get();
        }
        return n;
    }

    /**
     * The retained sets against {@code drill.prove_within}.
     *
     * @param proveWithin      the period; empty when none is configured
     * @param sets             how many sets are retained
     * @param overdue          the ids of the overdue sets, oldest first (none without a period)
     * @param neverProven      how many sets no drill has restored yet
     * @param runsWithinPeriod how many drills the schedule runs within the period from now (counted up to
     *                         {@code sets}); empty without a period, 0 without {@code schedule.drill}
     */
    public record Coverage(
            Optional<Duration> proveWithin,
            int sets,
            List<String> overdue,
            int neverProven,
            Optional<Integer> runsWithinPeriod) {
        /** Whether one drill per scheduled run proves every set within the period (true without a period). */
        public boolean keepsUp() {
            return runsWithinPeriod.map(n -> n >= sets).orElse(true);
        }

        /**
         * One line for {@code status} and the report: "2 of 9 sets overdue (prove_within 30d)", then a
         * warning when the schedule cannot keep up.
         */
        public String summary() {
            if (proveWithin.isEmpty()) {
                return "no period set (drill.prove_within); " + neverProven + " of " + sets + " set(s) never drilled";
            }
            String period = text(proveWithin.get());
            StringBuilder line = new StringBuilder()
                    .append(overdue.size())
                    .append(" of ")
                    .append(sets)
                    .append(" set(s) overdue (prove_within ")
                    .append(period)
                    .append(")");
            if (!keepsUp()) {
                int runs = runsWithinPeriod.orElse(0);
                line.append(
                        runs == 0
                                ? "; WARNING: schedule.drill runs no drill within " + period
                                : "; WARNING: schedule.drill runs " + runs + " drill(s) within " + period
                                        + ", fewer than the " + sets + " set(s) retained: some stay unproven longer");
            }
            return line.toString();
        }
    }

    /** A period as the configuration writes it: 30d, 12h, 90m, 45s, 500ms. */
    public static String text(Duration d) {
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + "ms";
        }
        long s = d.toSeconds();
        if (s % 86400 == 0) {
            return s / 86400 + "d";
        }
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        return s % 60 == 0 ? s / 60 + "m" : s + "s";
    }
}

package io.zpitr.appliance.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.schedule.Schedule;
import io.zpitr.appliance.snapshot.SnapshotSet;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The scheduled drill's choice: overdue sets first (drill.prove_within), never-drilled sets first, oldest first, then the
 * one proven longest ago; all in turn; and how the sets stand against the period.
 */
class DrillRotationTest {
    static final Instant T0 = Instant.parse("2026-11-01T04:01:00Z");

    static SnapshotSet set(int day, Instant verifiedAt) {
        return set(day, verifiedAt, verifiedAt == null ? null : "passed");
    }

    static SnapshotSet set(int day, Instant verifiedAt, String outcome) {
        return new SnapshotSet(
                "zpitr-" + day,
                T0.plus(Duration.ofDays(day)),
                List.of(),
                List.of(),
                true,
                null,
                "standby",
                1,
                "0/3000028",
                "0/3000110",
                null,
                "1",
                150010,
                750,
                new TreeSet<>(),
                0,
                0,
                verifiedAt,
                outcome,
                null);
    }

    @Test
    void neverDrilledSetsComeFirstOldestFirst() {
        List<SnapshotSet> sets = List.of(set(0, T0.plus(Duration.ofDays(3))), set(1, null), set(2, null));
        assertEquals("zpitr-1", DrillRotation.next(sets).orElseThrow().id());
    }

    @Test
    void thenTheSetProvenLongestAgo() {
        List<SnapshotSet> sets = List.of(
                set(0, T0.plus(Duration.ofDays(9))),
                set(1, T0.plus(Duration.ofDays(7))),
                set(2, T0.plus(Duration.ofDays(8))));
        assertEquals("zpitr-1", DrillRotation.next(sets).orElseThrow().id());
    }

    @Test
    void weeklyDrillsProveEverySetWithinAsManyWeeks() {
        List<SnapshotSet> sets = new ArrayList<>();
        for (int d = 0; d < 5; d++) {
            sets.add(set(d, null));
        }
        List<String> drilled = new ArrayList<>();
        for (int week = 1; week <= 5; week++) {
            SnapshotSet next = DrillRotation.next(sets).orElseThrow();
            drilled.add(next.id());
            sets.set(
                    sets.indexOf(next),
                    set(Integer.parseInt(next.id().substring(6)), T0.plus(Duration.ofDays(7L * week))));
        }
        assertEquals(List.of("zpitr-0", "zpitr-1", "zpitr-2", "zpitr-3", "zpitr-4"), drilled);
        assertTrue(DrillRotation.next(List.of()).isEmpty());
    }

    static final Optional<Duration> THIRTY_DAYS = Optional.of(Duration.ofDays(30));

    @Test
    void overdueMeansNoPassedDrillWithinThePeriod() {
        Instant now = T0.plus(Duration.ofDays(60));
        assertTrue(DrillRotation.overdue(set(0, null), THIRTY_DAYS, now), "never drilled");
        assertTrue(DrillRotation.overdue(set(0, now.minus(Duration.ofDays(31))), THIRTY_DAYS, now), "passed 31 d ago");
        assertFalse(DrillRotation.overdue(set(0, now.minus(Duration.ofDays(30))), THIRTY_DAYS, now), "passed 30 d ago");
        assertTrue(
                DrillRotation.overdue(set(0, now.minus(Duration.ofDays(1)), "failed"), THIRTY_DAYS, now),
                "a failed drill proves nothing");
        assertTrue(DrillRotation.overdue(set(0, now.minus(Duration.ofHours(1)), "not_restorable"), THIRTY_DAYS, now));
        assertFalse(DrillRotation.overdue(set(0, null), Optional.empty(), now), "no period: nothing is overdue");
    }

    @Test
    void overdueSetsAreDrilledFirstThenTheRotationAsBefore() {
        Instant now = T0.plus(Duration.ofDays(60));
        // Proven 20 and 10 days ago (within 30 d), and one whose drill failed yesterday: that one is overdue.
        List<SnapshotSet> sets = List.of(
                set(0, now.minus(Duration.ofDays(20))),
                set(1, now.minus(Duration.ofDays(1)), "failed"),
                set(2, now.minus(Duration.ofDays(10))));
        assertEquals(
                "zpitr-1",
                DrillRotation.next(sets, THIRTY_DAYS, now).orElseThrow().id());
        assertEquals("zpitr-0", DrillRotation.next(sets).orElseThrow().id(), "without a period: proven longest ago");
        // Eleven days later the first is overdue too, and older: its turn comes before the failed one's.
        Instant later = now.plus(Duration.ofDays(11));
        assertEquals(
                "zpitr-0",
                DrillRotation.next(sets, THIRTY_DAYS, later).orElseThrow().id());
        // A set never drilled comes before every other overdue set.
        List<SnapshotSet> withNew = new ArrayList<>(sets);
        withNew.add(set(3, null));
        assertEquals(
                "zpitr-3",
                DrillRotation.next(withNew, THIRTY_DAYS, later).orElseThrow().id());
    }

    @Test
    void coverageCountsOverdueSetsAndWarnsWhenTheScheduleCannotKeepUp() {
        Instant now = T0.plus(Duration.ofDays(60));
        List<SnapshotSet> sets = new ArrayList<>();
        for (int d = 0; d < 9; d++) {
            sets.add(set(d, d < 2 ? null : now.minus(Duration.ofDays(d))));
        }
        Schedule weekly = Schedule.parse("0 5 * * 0", ZoneOffset.UTC);
        DrillRotation.Coverage c = DrillRotation.coverage(sets, THIRTY_DAYS, Optional.of(weekly), now);
        assertEquals(List.of("zpitr-0", "zpitr-1"), c.overdue());
        assertEquals(2, c.neverProven());
        assertEquals(Optional.of(4), c.runsWithinPeriod(), "the Sundays from 2026-12-31 to 2027-01-30");
        assertFalse(c.keepsUp());
        assertEquals(
                "2 of 9 set(s) overdue (prove_within 30d); WARNING: schedule.drill runs 4 drill(s) within 30d, fewer"
                        + " than the 9 set(s) retained: some stay unproven longer",
                c.summary());

        DrillRotation.Coverage daily = DrillRotation.coverage(
                sets, THIRTY_DAYS, Optional.of(Schedule.parse("0 5 * * *", ZoneOffset.UTC)), now);
        assertTrue(daily.keepsUp());
        assertEquals(Optional.of(9), daily.runsWithinPeriod(), "counted only as far as there are sets");
        assertEquals("2 of 9 set(s) overdue (prove_within 30d)", daily.summary());

        DrillRotation.Coverage unscheduled = DrillRotation.coverage(sets, THIRTY_DAYS, Optional.empty(), now);
        assertTrue(unscheduled.summary().endsWith("WARNING: schedule.drill runs no drill within 30d"));

        DrillRotation.Coverage none = DrillRotation.coverage(sets, Optional.empty(), Optional.of(weekly), now);
        assertEquals(List.of(), none.overdue());
        assertTrue(none.keepsUp());
        assertEquals("no period set (drill.prove_within); 2 of 9 set(s) never drilled", none.summary());
    }

    @Test
    void periodsAreWrittenAsTheConfigurationWritesThem() {
        assertEquals("30d", DrillRotation.text(Duration.ofDays(30)));
        assertEquals("36h", DrillRotation.text(Duration.ofHours(36)));
        assertEquals("90m", DrillRotation.text(Duration.ofMinutes(90)));
        assertEquals("45s", DrillRotation.text(Duration.ofSeconds(45)));
        assertEquals("1500ms", DrillRotation.text(Duration.ofMillis(1500)));
    }

    /** A weekly drill with a 30-day period and three sets, one of which keeps failing: none waits past 30 days. */
    @Test
    void overWeeksOfWeeklyDrillsNoSetWaitsLongerThanThePeriod() {
        Instant start = T0.plus(Duration.ofDays(10));
        List<SnapshotSet> sets = new ArrayList<>(List.of(set(0, null), set(1, null), set(2, null)));
        Instant[] lastPassed = new Instant[3];
        for (int week = 0; week < 26; week++) {
            Instant now = start.plus(Duration.ofDays(7L * week));
            for (int i = 0; i < 3; i++) {
                assertTrue(
                        i == 1
                                || week < 5
                                || !lastPassed[i].plus(Duration.ofDays(30 + 7)).isBefore(now),
                        "set " + i + " waited past the period at week " + week);
            }
            SnapshotSet next = DrillRotation.next(sets, THIRTY_DAYS, now).orElseThrow();
            int i = Integer.parseInt(next.id().substring(6));
            String outcome = i == 1 ? "failed" : "passed";
            sets.set(i, set(i, now, outcome));
            if (outcome.equals("passed")) {
                lastPassed[i] = now;
            }
        }
    }
}

// The calendar classes over years of synthetic snapshots, in zones with and without DST, across DST changes.
package io.zpitr.appliance.retention;

import static io.zpitr.appliance.retention.Series.clockAt;
import static io.zpitr.appliance.retention.Series.instants;
import static io.zpitr.appliance.retention.Series.kept;
import static io.zpitr.appliance.retention.Series.keptBy;
import static io.zpitr.appliance.retention.Series.set;
import static io.zpitr.appliance.retention.Series.t;
import static io.zpitr.appliance.retention.Series.texts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.retention.RetentionReason.Rule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RetentionCalendarTest {
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
    private static final ZoneId SINGAPORE = ZoneId.of("Asia/Singapore");
    private static final ZoneId UTC = ZoneId.of("UTC");
    private static final Duration HOUR = Duration.ofHours(1);

    private static long setsOn(List<RetentionCandidate> sets, ZoneId zone, String date) {
        return sets.stream()
                .filter(s -> s.created().atZone(zone).toLocalDate().equals(LocalDate.parse(date)))
                .count();
    }

    @Test
    void berlinsAutumnDayHas25HoursAndIsOneDay() {
        List<RetentionCandidate> sets = Series.every(HOUR, "2026-10-20T00:00:00Z", "2026-10-27T10:00:00Z");
        assertEquals(25, setsOn(sets, BERLIN, "2026-10-25"), "fixture: one set per real hour");
        List<RetentionDecision> d = Series.only(Rule.DAILY, 4).decide(sets, BERLIN, clockAt("2026-10-27T10:30:00Z"));
        assertEquals(
                List.of("daily 2026-10-27", "daily 2026-10-26", "daily 2026-10-25", "daily 2026-10-24"),
                texts(d, Rule.DAILY));
        // Each day's last set is its 23:00 local: CET (+1) from the 25th on, CEST (+2) before.
        assertEquals(
                instants(
                        "2026-10-27T10:00:00Z", "2026-10-26T22:00:00Z", "2026-10-25T22:00:00Z", "2026-10-24T21:00:00Z"),
                kept(d));
    }

    @Test
    void berlinsSpringDayHas23HoursAndIsOneDay() {
        List<RetentionCandidate> sets = Series.every(HOUR, "2026-03-25T00:00:00Z", "2026-03-30T05:00:00Z");
        assertEquals(23, setsOn(sets, BERLIN, "2026-03-29"));
        List<RetentionDecision> d = Series.only(Rule.DAILY, 3).decide(sets, BERLIN, clockAt("2026-03-30T05:30:00Z"));
        assertEquals(instants("2026-03-30T05:00:00Z", "2026-03-29T21:00:00Z", "2026-03-28T22:00:00Z"), kept(d));
    }

    @Test
    void newYorksSpringDayHas23HoursAndIsOneDay() {
        List<RetentionCandidate> sets = Series.every(HOUR, "2026-03-01T00:00:00Z", "2026-03-10T12:00:00Z");
        assertEquals(23, setsOn(sets, NEW_YORK, "2026-03-08"));
        List<RetentionDecision> d = Series.only(Rule.DAILY, 4).decide(sets, NEW_YORK, clockAt("2026-03-10T12:30:00Z"));
        assertEquals(
                List.of("daily 2026-03-10", "daily 2026-03-09", "daily 2026-03-08", "daily 2026-03-07"),
                texts(d, Rule.DAILY));
        assertEquals(
                instants(
                        "2026-03-10T12:00:00Z", "2026-03-10T03:00:00Z", "2026-03-09T03:00:00Z", "2026-03-08T04:00:00Z"),
                kept(d));
    }

    @Test
    void berlinsRepeatedAutumnHourIsTwoHourlyPeriods() {
        List<RetentionCandidate> sets =
                Series.every(Duration.ofMinutes(20), "2026-10-24T21:00:00Z", "2026-10-25T03:40:00Z");
        List<RetentionDecision> d = Series.only(Rule.HOURLY, 6).decide(sets, BERLIN, clockAt("2026-10-25T03:50:00Z"));
        assertEquals(
                List.of(
                        "hourly 2026-10-25T04:00+01:00",
                        "hourly 2026-10-25T03:00+01:00",
                        "hourly 2026-10-25T02:00+01:00",
                        "hourly 2026-10-25T02:00+02:00",
                        "hourly 2026-10-25T01:00+02:00",
                        "hourly 2026-10-25T00:00+02:00"),
                texts(d, Rule.HOURLY));
        assertEquals(
                instants(
                        "2026-10-25T03:40:00Z",
                        "2026-10-25T02:40:00Z",
                        "2026-10-25T01:40:00Z",
                        "2026-10-25T00:40:00Z",
                        "2026-10-24T23:40:00Z",
                        "2026-10-24T22:40:00Z"),
                kept(d));
    }

    @Test
    void newYorksRepeatedAutumnHourIsTwoHourlyPeriods() {
        List<RetentionCandidate> sets =
                Series.every(Duration.ofMinutes(20), "2026-11-01T02:00:00Z", "2026-11-01T08:40:00Z");
        List<RetentionDecision> d = Series.only(Rule.HOURLY, 5).decide(sets, NEW_YORK, clockAt("2026-11-01T08:50:00Z"));
        assertEquals(
                List.of(
                        "hourly 2026-11-01T03:00-05:00",
                        "hourly 2026-11-01T02:00-05:00",
                        "hourly 2026-11-01T01:00-05:00",
                        "hourly 2026-11-01T01:00-04:00",
                        "hourly 2026-11-01T00:00-04:00"),
                texts(d, Rule.HOURLY));
        assertEquals(
                instants(
                        "2026-11-01T08:40:00Z",
                        "2026-11-01T07:40:00Z",
                        "2026-11-01T06:40:00Z",
                        "2026-11-01T05:40:00Z",
                        "2026-11-01T04:40:00Z"),
                kept(d));
    }

    @Test
    void newYorksSkippedSpringHourIsNoPeriod() {
        List<RetentionCandidate> sets =
                Series.every(Duration.ofMinutes(30), "2026-03-08T05:00:00Z", "2026-03-08T07:30:00Z");
        List<RetentionDecision> d = Series.only(Rule.HOURLY, 3).decide(sets, NEW_YORK, clockAt("2026-03-08T07:45:00Z"));
        assertEquals(
                List.of(
                        "hourly 2026-03-08T03:00-04:00",
                        "hourly 2026-03-08T01:00-05:00",
                        "hourly 2026-03-08T00:00-05:00"),
                texts(d, Rule.HOURLY));
    }

    @Test
    void aHalfHourFallBackMakesAHalfHourPeriod() {
        // Lord Howe Island goes from +11:00 at 02:00 back to +10:30 at 01:30: 01:30-01:59 happens twice.
        ZoneId lordHowe = ZoneId.of("Australia/Lord_Howe");
        List<RetentionDecision> d = Series.only(Rule.HOURLY, 3)
                .decide(
                        List.of(
                                set("2026-04-04T13:30:00Z"),
                                set("2026-04-04T14:15:00Z"),
                                set("2026-04-04T14:45:00Z"),
                                set("2026-04-04T15:15:00Z")),
                        lordHowe,
                        clockAt("2026-04-04T15:20:00Z"));
        assertEquals(
                List.of(
                        "hourly 2026-04-05T01:00+10:30",
                        "hourly 2026-04-05T01:00+11:00",
                        "hourly 2026-04-05T00:00+11:00"),
                texts(d, Rule.HOURLY));
        assertEquals(instants("2026-04-04T15:15:00Z", "2026-04-04T14:45:00Z", "2026-04-04T13:30:00Z"), kept(d));
    }

    @Test
    void weeksFollowTheZone() {
        // 15:30Z Sunday is 23:30 Sunday in Singapore; 16:30Z is already Monday 00:30 there, but still Sunday in UTC.
        List<RetentionCandidate> sets =
                List.of(set("2026-11-22T16:30:00Z"), set("2026-11-22T15:30:00Z"), set("2026-11-15T12:00:00Z"));
        Clock clock = clockAt("2026-11-22T17:00:00Z");
        RetentionPolicy weekly2 = Series.only(Rule.WEEKLY, 2);
        List<RetentionDecision> sg = weekly2.decide(sets, SINGAPORE, clock);
        assertEquals(List.of("weekly 2026-W48", "weekly 2026-W47"), texts(sg, Rule.WEEKLY));
        assertEquals(instants("2026-11-22T16:30:00Z", "2026-11-22T15:30:00Z"), kept(sg));
        List<RetentionDecision> utc = weekly2.decide(sets, UTC, clock);
        assertEquals(List.of("weekly 2026-W47", "weekly 2026-W46"), texts(utc, Rule.WEEKLY));
        assertEquals(instants("2026-11-22T16:30:00Z", "2026-11-15T12:00:00Z"), kept(utc));
    }

    @Test
    void isoWeeksAcrossTheTurnOf2026And2027() {
        // 2026 has 53 ISO weeks: 2026-W53 runs from Monday 2026-12-28 to Sunday 2027-01-03.
        List<RetentionCandidate> sets =
                Series.every(Duration.ofDays(1), "2026-12-01T12:00:00Z", "2027-01-20T12:00:00Z");
        List<RetentionDecision> d = Series.only(Rule.WEEKLY, 5).decide(sets, UTC, clockAt("2027-01-20T13:00:00Z"));
        assertEquals(
                List.of("weekly 2027-W03", "weekly 2027-W02", "weekly 2027-W01", "weekly 2026-W53", "weekly 2026-W52"),
                texts(d, Rule.WEEKLY));
        assertEquals(
                instants(
                        "2027-01-20T12:00:00Z",
                        "2027-01-17T12:00:00Z",
                        "2027-01-10T12:00:00Z",
                        "2027-01-03T12:00:00Z",
                        "2026-12-27T12:00:00Z"),
                kept(d));
    }

    @Test
    void theLastDaysOf2025AreIn2026W01ButYear2025() {
        List<RetentionCandidate> sets = List.of(
                set("2025-12-27T12:00:00Z"),
                set("2025-12-28T12:00:00Z"),
                set("2025-12-31T12:00:00Z"),
                set("2026-01-02T12:00:00Z"));
        RetentionPolicy policy = new RetentionPolicy(Duration.ZERO, 0, 0, 2, 0, 2);
        List<RetentionDecision> d = policy.decide(sets, UTC, clockAt("2026-01-02T13:00:00Z"));
        assertEquals(
                List.of(
                        "keep 2026-01-02T12:00:00Z (newest, weekly 2026-W01, yearly 2026)",
                        "keep 2025-12-31T12:00:00Z (yearly 2025)",
                        "keep 2025-12-28T12:00:00Z (weekly 2025-W52)",
                        "destroy 2025-12-27T12:00:00Z (not kept by any rule (age 6d 1h))"),
                d.stream().map(RetentionDecision::toString).toList());
    }

    @Test
    void monthEndsFollowTheZonesOffsetOfThatDay() {
        List<RetentionCandidate> sets = Series.every(HOUR, "2026-01-01T00:00:00Z", "2026-11-20T04:00:00Z");
        Clock clock = clockAt("2026-11-20T04:30:00Z");
        RetentionPolicy monthly = Series.only(Rule.MONTHLY, 12);
        // March ends in EDT (-4) in New York, in CEST (+2) in Berlin; December would end in standard time.
        assertTrue(keptBy(monthly.decide(sets, NEW_YORK, clock), Rule.MONTHLY).contains(t("2026-04-01T03:00:00Z")));
        assertTrue(keptBy(monthly.decide(sets, BERLIN, clock), Rule.MONTHLY).contains(t("2026-03-31T21:00:00Z")));
        assertTrue(keptBy(monthly.decide(sets, SINGAPORE, clock), Rule.MONTHLY).contains(t("2026-03-31T15:00:00Z")));
        assertTrue(keptBy(monthly.decide(sets, UTC, clock), Rule.MONTHLY).contains(t("2026-03-31T23:00:00Z")));
        // Only 11 months have sets: all of them are kept, and no more than that.
        assertEquals(11, keptBy(monthly.decide(sets, UTC, clock), Rule.MONTHLY).size());
    }

    /**
     * Three years of hourly sets: every class keeps exactly its count, the first is the newest set, each
     * other is the last set of its period (the next hour is in another period), and the periods are
     * consecutive calendar periods counted back from now.
     */
    @ParameterizedTest
    @ValueSource(strings = {"Europe/Berlin", "America/New_York", "Asia/Singapore", "UTC"})
    void threeYearsOfHourlySets(String zoneName) {
        ZoneId zone = ZoneId.of(zoneName);
        List<RetentionCandidate> sets = Series.every(HOUR, "2023-11-20T05:00:00Z", "2026-11-20T04:00:00Z");
        assertEquals(1096 * 24, sets.size(), "fixture: three years with a leap day, one set an hour");
        Clock clock = clockAt("2026-11-20T04:30:00Z");
        RetentionPolicy policy = new RetentionPolicy(Duration.ofHours(24), 36, 7, 4, 12, 3);
        List<RetentionDecision> d = policy.decide(sets, zone, clock);
        Instant newest = t("2026-11-20T04:00:00Z");
        ZonedDateTime now = newest.atZone(zone);

        assertClass(d, Rule.HOURLY, 36, newest, zone, CalendarPeriod.HOUR, k -> now.minusHours(k));
        assertClass(d, Rule.DAILY, 7, newest, zone, CalendarPeriod.DAY, k -> now.minusDays(k));
        assertClass(d, Rule.WEEKLY, 4, newest, zone, CalendarPeriod.WEEK, k -> now.minusWeeks(k));
        assertClass(d, Rule.MONTHLY, 12, newest, zone, CalendarPeriod.MONTH, k -> now.minusMonths(k));
        assertClass(d, Rule.YEARLY, 3, newest, zone, CalendarPeriod.YEAR, k -> now.minusYears(k));
        assertEquals(List.of("yearly 2026", "yearly 2025", "yearly 2024"), texts(d, Rule.YEARLY));
        assertEquals(
                LocalDate.of(2025, 12, 31)
                        .plusDays(1)
                        .atStartOfDay(zone)
                        .toInstant()
                        .minus(HOUR),
                keptBy(d, Rule.YEARLY).get(1),
                "2025 is kept by its last hour, local time");

        // keep_within 24h, inclusive: the sets from 04:30Z yesterday on, 24 of them.
        assertEquals(24, keptBy(d, Rule.KEEP_WITHIN).size());
        // Nothing else is kept: the kept sets are exactly the union of the rules.
        Set<Instant> union = new HashSet<>(keptBy(d, Rule.KEEP_WITHIN));
        for (Rule r : List.of(Rule.HOURLY, Rule.DAILY, Rule.WEEKLY, Rule.MONTHLY, Rule.YEARLY)) {
            union.addAll(keptBy(d, r));
        }
        assertEquals(union, new HashSet<>(kept(d)));
        assertEquals(sets.size(), d.size());
    }

    private static void assertClass(
            List<RetentionDecision> d,
            Rule rule,
            int count,
            Instant newest,
            ZoneId zone,
            CalendarPeriod period,
            Function<Integer, ZonedDateTime> kBack) {
        List<Instant> kept = keptBy(d, rule);
        assertEquals(count, kept.size(), rule + " keeps exactly its count");
        assertEquals(newest, kept.get(0), rule + " keeps the newest set for the newest period");
        for (Instant at : kept.subList(1, kept.size())) {
            assertTrue(
                    !period.label(at, zone).equals(period.label(at.plus(HOUR), zone)),
                    rule + " keeps the last set of its period, not " + at.atZone(zone));
        }
        Set<String> labels =
                kept.stream().map(at -> period.label(at, zone)).collect(Collectors.toCollection(LinkedHashSet::new));
        assertEquals(count, labels.size(), rule + " keeps one set per period");
        if (period != CalendarPeriod.HOUR) {
            // Hour periods are checked via the instants instead: with whole-hour offsets, one hourly set per period.
            List<String> expected = IntStream.range(0, count)
                    .mapToObj(k -> period.label(kBack.apply(k)))
                    .toList();
            assertEquals(expected, List.copyOf(labels), rule + " keeps consecutive periods");
        } else {
            assertEquals(
                    IntStream.range(0, count)
                            .mapToObj(k -> newest.minus(k, ChronoUnit.HOURS))
                            .toList(),
                    kept);
        }
    }

    @Test
    void irregularSetsWithGapsAcrossBerlinsDstChanges() {
        // A set at some odd hours, with whole days and a whole week missing.
        List<RetentionCandidate> sets = List.of(
                set("2026-11-03T07:13:00Z"),
                set("2026-11-02T23:30:00Z"), // 00:30 CET on the 3rd
                set("2026-11-02T22:59:00Z"), // 23:59 CET on the 2nd
                set("2026-10-31T12:00:00Z"),
                set("2026-10-25T01:30:00Z"), // 02:30 CET, the second 02:30 of the 25th
                set("2026-10-25T00:30:00Z"), // 02:30 CEST, the first one
                set("2026-10-24T22:30:00Z"), // 00:30 CEST on the 25th
                set("2026-10-09T10:00:00Z"), // W41; W42 has no sets
                set("2026-03-29T00:59:00Z"), // 01:59 CET, just before spring forward
                set("2026-03-29T01:00:00Z")); // 03:00 CEST
        RetentionPolicy policy = new RetentionPolicy(Duration.ZERO, 0, 4, 4, 0, 0);
        List<RetentionDecision> d = policy.decide(sets, BERLIN, clockAt("2026-11-03T08:00:00Z"));
        assertEquals(
                List.of("daily 2026-11-03", "daily 2026-11-02", "daily 2026-10-31", "daily 2026-10-25"),
                texts(d, Rule.DAILY));
        assertEquals(
                instants(
                        "2026-11-03T07:13:00Z", "2026-11-02T22:59:00Z", "2026-10-31T12:00:00Z", "2026-10-25T01:30:00Z"),
                keptBy(d, Rule.DAILY));
        assertEquals(
                List.of("weekly 2026-W45", "weekly 2026-W44", "weekly 2026-W43", "weekly 2026-W41"),
                texts(d, Rule.WEEKLY));
        assertEquals(
                instants(
                        "2026-11-03T07:13:00Z", "2026-10-31T12:00:00Z", "2026-10-25T01:30:00Z", "2026-10-09T10:00:00Z"),
                keptBy(d, Rule.WEEKLY));
        assertEquals(
                List.of(
                        "2026-11-03T07:13:00Z",
                        "2026-11-02T22:59:00Z",
                        "2026-10-31T12:00:00Z",
                        "2026-10-25T01:30:00Z",
                        "2026-10-09T10:00:00Z"),
                d.stream()
                        .filter(RetentionDecision::kept)
                        .map(RetentionDecision::id)
                        .toList());
    }
}

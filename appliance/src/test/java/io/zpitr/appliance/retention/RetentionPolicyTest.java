// The rules one by one on small, hand-checked inputs: newest, keep_within, protection, future sets, counts.
package io.zpitr.appliance.retention;

import static io.zpitr.appliance.retention.Series.clockAt;
import static io.zpitr.appliance.retention.Series.instants;
import static io.zpitr.appliance.retention.Series.kept;
import static io.zpitr.appliance.retention.Series.keptBy;
import static io.zpitr.appliance.retention.Series.set;
import static io.zpitr.appliance.retention.Series.t;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.retention.RetentionReason.Rule;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RetentionPolicyTest {
    private static final ZoneId UTC = ZoneOffset.UTC;
    private static final RetentionPolicy NOTHING = new RetentionPolicy(Duration.ZERO, 0, 0, 0, 0, 0);
    private static final Clock NOON = clockAt("2026-11-20T12:00:00Z");

    @Test
    void noSetsGiveNoDecisions() {
        assertEquals(List.of(), NOTHING.decide(List.of(), UTC, NOON));
    }

    @Test
    void theNewestIsKeptWhenEveryRuleIsOffAndTheRestSayHowOldTheyAre() {
        List<RetentionDecision> d = NOTHING.decide(
                List.of(set("2026-11-19T12:00:00Z"), set("2026-11-20T11:00:00Z"), set("2026-10-10T08:48:00Z")),
                UTC,
                NOON);
        assertEquals("keep 2026-11-20T11:00:00Z (newest)", d.get(0).toString());
        assertEquals(
                "destroy 2026-11-19T12:00:00Z (not kept by any rule (age 1d))",
                d.get(1).toString());
        assertEquals(
                "destroy 2026-10-10T08:48:00Z (not kept by any rule (age 41d 3h 12m))",
                d.get(2).toString());
    }

    @Test
    void decisionsComeNewestFirstWhateverTheInputOrder() {
        List<RetentionCandidate> sets =
                new ArrayList<>(Series.every(Duration.ofMinutes(37), "2026-11-01T00:00:00Z", "2026-11-20T12:00:00Z"));
        RetentionPolicy policy = new RetentionPolicy(Duration.ofHours(24), 6, 7, 4, 12, 1);
        List<RetentionDecision> expected = policy.decide(sets, UTC, NOON);
        for (int i = 1; i < expected.size(); i++) {
            assertTrue(expected.get(i - 1).created().isAfter(expected.get(i).created()));
        }
        Collections.reverse(sets);
        assertEquals(expected, policy.decide(sets, UTC, NOON));
        Collections.shuffle(sets, new Random(7));
        assertEquals(expected, policy.decide(sets, UTC, NOON));
    }

    @Test
    void setsCreatedAtTheSameInstantAreOrderedById() {
        RetentionCandidate b = RetentionCandidate.of("b", t("2026-11-20T10:00:00Z"));
        RetentionCandidate a = RetentionCandidate.of("a", t("2026-11-20T10:00:00Z"));
        List<RetentionDecision> d = Series.only(Rule.DAILY, 1).decide(List.of(b, a), UTC, NOON);
        assertEquals("keep a (newest, daily 2026-11-20)", d.get(0).toString());
        assertEquals("destroy b (not kept by any rule (age 2h))", d.get(1).toString());
    }

    @Test
    void keepWithinIncludesItsBoundary() {
        RetentionPolicy policy = new RetentionPolicy(Duration.ofHours(24), 0, 0, 0, 0, 0);
        List<RetentionDecision> d = policy.decide(
                List.of(
                        set("2026-11-20T12:00:00Z"), // age 0
                        set("2026-11-19T12:00:00Z"), // exactly 24h
                        set("2026-11-19T11:59:59.999999999Z"), // 24h and 1ns
                        set("2026-11-18T12:00:00Z")),
                UTC,
                NOON);
        assertEquals(
                List.of("newest, keep_within 24h", "keep_within 24h"),
                d.stream()
                        .filter(RetentionDecision::kept)
                        .map(RetentionDecision::reasonText)
                        .toList());
        assertEquals(instants("2026-11-20T12:00:00Z", "2026-11-19T12:00:00Z"), kept(d));
        assertEquals("not kept by any rule (age 1d)", d.get(2).reasonText());
    }

    @Test
    void keepWithinZeroIsOff() {
        List<RetentionDecision> d =
                NOTHING.decide(List.of(set("2026-11-20T12:00:00Z"), set("2026-11-20T11:59:59Z")), UTC, NOON);
        assertEquals(instants("2026-11-20T12:00:00Z"), kept(d));
        assertFalse(d.get(0).has(Rule.KEEP_WITHIN));
    }

    @Test
    void keepWithinIsPrintedAsTheConfigurationWritesIt() {
        assertEquals("500ms", RetentionPolicy.configText(Duration.ofMillis(500)));
        assertEquals("90s", RetentionPolicy.configText(Duration.ofSeconds(90)));
        assertEquals("5m", RetentionPolicy.configText(Duration.ofMinutes(5)));
        assertEquals("24h", RetentionPolicy.configText(Duration.ofHours(24)));
        assertEquals("36h", RetentionPolicy.configText(Duration.ofHours(36)));
        assertEquals("2d", RetentionPolicy.configText(Duration.ofHours(48)));
        assertEquals("7d", RetentionPolicy.configText(Duration.ofDays(7)));
        assertEquals("12s", RetentionPolicy.age(Duration.ofSeconds(12)));
        assertEquals("3d 4h", RetentionPolicy.age(Duration.ofHours(76).plusSeconds(59)));
    }

    @Test
    void heldAndClonedSetsSurviveEveryPolicy() {
        List<RetentionDecision> d = NOTHING.decide(
                List.of(
                        set("2026-11-20T11:00:00Z"),
                        new RetentionCandidate("held", t("2020-01-01T00:00:00Z"), true, false),
                        new RetentionCandidate("cloned", t("2021-01-01T00:00:00Z"), false, true),
                        new RetentionCandidate("both", t("2022-01-01T00:00:00Z"), true, true),
                        set("2023-01-01T00:00:00Z")),
                UTC,
                NOON);
        assertEquals(
                List.of(
                        "keep 2026-11-20T11:00:00Z (newest)",
                        "destroy 2023-01-01T00:00:00Z (not kept by any rule (age 1419d 12h))",
                        "keep both (held, has restore clones)",
                        "keep cloned (has restore clones)",
                        "keep held (held)"),
                d.stream().map(RetentionDecision::toString).toList());
    }

    @Test
    void protectionDoesNotChangeWhatTheCalendarChooses() {
        // The held set is older than the day's newest: daily still keeps the newest, the held one stays by its hold.
        List<RetentionDecision> d = Series.only(Rule.DAILY, 1)
                .decide(
                        List.of(
                                new RetentionCandidate("held", t("2026-11-20T10:00:00Z"), true, false),
                                set("2026-11-20T11:00:00Z"),
                                set("2026-11-19T11:00:00Z")),
                        UTC,
                        NOON);
        assertEquals(
                List.of(
                        "keep 2026-11-20T11:00:00Z (newest, daily 2026-11-20)",
                        "keep held (held)",
                        "destroy 2026-11-19T11:00:00Z (not kept by any rule (age 1d 1h))"),
                d.stream().map(RetentionDecision::toString).toList());
    }

    @Test
    void futureSetsAreKeptAndTakeNoCalendarSlot() {
        RetentionPolicy policy = new RetentionPolicy(Duration.ofHours(1), 0, 2, 0, 0, 1);
        List<RetentionDecision> d = policy.decide(
                List.of(
                        set("2099-01-01T00:00:00Z"),
                        set("2026-11-20T12:05:00Z"),
                        set("2026-11-20T11:30:00Z"),
                        set("2026-11-20T10:00:00Z"),
                        set("2026-11-19T23:00:00Z"),
                        set("2026-11-19T22:00:00Z")),
                UTC,
                NOON);
        assertEquals(
                List.of(
                        "keep 2099-01-01T00:00:00Z (newest, in the future by 26339d 12h (clock skew?))",
                        "keep 2026-11-20T12:05:00Z (in the future by 5m (clock skew?))",
                        "keep 2026-11-20T11:30:00Z (newest not in the future, keep_within 1h, daily 2026-11-20, yearly 2026)",
                        "destroy 2026-11-20T10:00:00Z (not kept by any rule (age 2h))",
                        "keep 2026-11-19T23:00:00Z (daily 2026-11-19)",
                        "destroy 2026-11-19T22:00:00Z (not kept by any rule (age 14h))"),
                d.stream().map(RetentionDecision::toString).toList());
    }

    @Test
    void aSetCreatedAtTheClocksNowIsNotInTheFuture() {
        List<RetentionDecision> d = NOTHING.decide(List.of(set("2026-11-20T12:00:00Z")), UTC, NOON);
        assertEquals("newest", d.get(0).reasonText());
    }

    @Test
    void aCountOfZeroTurnsItsClassOff() {
        List<RetentionCandidate> sets =
                Series.every(Duration.ofHours(1), "2024-01-01T00:00:00Z", "2026-11-20T11:00:00Z");
        for (Rule off : List.of(Rule.HOURLY, Rule.DAILY, Rule.WEEKLY, Rule.MONTHLY, Rule.YEARLY)) {
            RetentionPolicy policy = new RetentionPolicy(
                    Duration.ZERO,
                    off == Rule.HOURLY ? 0 : 3,
                    off == Rule.DAILY ? 0 : 3,
                    off == Rule.WEEKLY ? 0 : 3,
                    off == Rule.MONTHLY ? 0 : 3,
                    off == Rule.YEARLY ? 0 : 3);
            List<RetentionDecision> d = policy.decide(sets, UTC, NOON);
            assertEquals(List.of(), keptBy(d, off), off + " is off");
            for (Rule on : List.of(Rule.HOURLY, Rule.DAILY, Rule.WEEKLY, Rule.MONTHLY, Rule.YEARLY)) {
                assertEquals(on == off ? 0 : 3, keptBy(d, on).size(), on + " with " + off + " off");
            }
        }
        List<RetentionDecision> none = NOTHING.decide(sets, UTC, NOON);
        assertEquals(instants("2026-11-20T11:00:00Z"), kept(none));
    }

    @Test
    void everyReasonNamesItsPeriod() {
        RetentionPolicy policy = new RetentionPolicy(Duration.ofHours(24), 1, 1, 1, 1, 1);
        List<RetentionDecision> d = policy.decide(List.of(set("2026-11-20T04:01:00Z")), UTC, NOON);
        assertEquals(
                "newest, keep_within 24h, hourly 2026-11-20T04:00Z, daily 2026-11-20, weekly 2026-W47,"
                        + " monthly 2026-11, yearly 2026",
                d.get(0).reasonText());
        List<RetentionDecision> sg =
                policy.decide(List.of(set("2026-11-20T04:01:00Z")), ZoneId.of("Asia/Singapore"), NOON);
        assertEquals(
                "newest, keep_within 24h, hourly 2026-11-20T12:00+08:00, daily 2026-11-20, weekly 2026-W47,"
                        + " monthly 2026-11, yearly 2026",
                sg.get(0).reasonText());
    }

    @Test
    void daysWithoutSetsDoNotCount() {
        List<RetentionDecision> d = Series.only(Rule.DAILY, 3)
                .decide(
                        List.of(
                                set("2026-11-20T09:00:00Z"),
                                set("2026-11-20T07:00:00Z"),
                                set("2026-11-17T23:59:00Z"),
                                set("2026-11-10T01:00:00Z"),
                                set("2026-11-01T12:00:00Z")),
                        UTC,
                        NOON);
        assertEquals(List.of("daily 2026-11-20", "daily 2026-11-17", "daily 2026-11-10"), Series.texts(d, Rule.DAILY));
        assertEquals(instants("2026-11-20T09:00:00Z", "2026-11-17T23:59:00Z", "2026-11-10T01:00:00Z"), kept(d));
    }

    @Test
    void badPoliciesAndInputsAreRefused() {
        assertEquals(
                "retention daily must be 0 or more, not -1",
                assertThrows(IllegalArgumentException.class, () -> new RetentionPolicy(Duration.ZERO, 0, -1, 0, 0, 0))
                        .getMessage());
        assertTrue(assertThrows(
                        IllegalArgumentException.class, () -> new RetentionPolicy(Duration.ofHours(-1), 0, 0, 0, 0, 0))
                .getMessage()
                .contains("keep_within"));
        assertThrows(NullPointerException.class, () -> new RetentionPolicy(null, 0, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RetentionCandidate.of(" ", t("2026-11-20T00:00:00Z")));
        assertEquals(
                "snapshot set 'x' is offered to retention twice",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> NOTHING.decide(
                                        List.of(
                                                RetentionCandidate.of("x", t("2026-11-20T00:00:00Z")),
                                                RetentionCandidate.of("x", t("2026-11-19T00:00:00Z"))),
                                        UTC,
                                        NOON))
                        .getMessage());
    }
}

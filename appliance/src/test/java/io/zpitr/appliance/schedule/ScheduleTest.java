package io.zpitr.appliance.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

class ScheduleTest {
    private static final ZoneId SG = ZoneId.of("Asia/Singapore");
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    private static Instant at(String local, ZoneId zone) {
        return ZonedDateTime.of(java.time.LocalDateTime.parse(local), zone).toInstant();
    }

    @Test
    void fiveFieldCronRunsInTheConfiguredZone() {
        Schedule s = Schedule.parse("1 4 * * *", SG);
        assertEquals("0 1 4 * * ?", s.quartz());
        assertEquals(
                at("2026-11-21T04:01:00", SG),
                s.nextAfter(at("2026-11-20T04:01:00", SG)).orElseThrow());
    }

    @Test
    void dayOfWeekNumbersFollowCron() {
        Schedule sunday = Schedule.parse("30 2 * * 0", SG);
        // 2026-11-22 is a Sunday.
        assertEquals(
                at("2026-11-22T02:30:00", SG),
                sunday.nextAfter(at("2026-11-21T12:00:00", SG)).orElseThrow());
        assertEquals(
                sunday.nextAfter(at("2026-11-21T12:00:00", SG)),
                Schedule.parse("30 2 * * 7", SG).nextAfter(at("2026-11-21T12:00:00", SG)));
        Schedule weekdays = Schedule.parse("0 9 * * 1-5", SG);
        assertEquals(
                at("2026-11-23T09:00:00", SG),
                weekdays.nextAfter(at("2026-11-21T12:00:00", SG)).orElseThrow());
        assertEquals("0 */15 * ? * 2-6", Schedule.parse("*/15 * * * 1-5", SG).quartz());
        assertEquals(
                at("2026-11-22T02:30:00", SG),
                Schedule.parse("30 2 * * SUN", SG)
                        .nextAfter(at("2026-11-21T12:00:00", SG))
                        .orElseThrow());
    }

    @Test
    void quartzExpressionsPassThrough() {
        Schedule s = Schedule.parse("0 1 4 * * ?", SG);
        assertEquals(
                at("2026-11-21T04:01:00", SG),
                s.nextAfter(at("2026-11-20T05:00:00", SG)).orElseThrow());
    }

    @Test
    void aRunAcrossTheSpringDstGapHappensOnce() {
        Schedule s = Schedule.parse("30 2 * * *", BERLIN);
        Instant next = s.nextAfter(at("2026-03-28T03:00:00", BERLIN)).orElseThrow();
        assertTrue(next.isAfter(at("2026-03-28T03:00:00", BERLIN)));
        assertTrue(next.isBefore(at("2026-03-30T03:00:00", BERLIN)), next.toString());
    }

    @Test
    void missedRunsAreDetected() {
        Schedule s = Schedule.parse("1 4 * * *", SG);
        assertTrue(s.missedSince(at("2026-11-19T04:01:00", SG), at("2026-11-20T09:00:00", SG)));
        assertFalse(s.missedSince(at("2026-11-20T04:01:00", SG), at("2026-11-20T09:00:00", SG)));
    }

    @Test
    void badSchedulesAreRefused() {
        for (String bad :
                new String[] {"", "1 4 * *", "61 4 * * *", "1 4 * * 9", "1 4 1 * 1", "a b c d e", "1 2 3 4 5 6 7 8"}) {
            assertThrows(IllegalArgumentException.class, () -> Schedule.parse(bad, SG), bad);
        }
    }
}

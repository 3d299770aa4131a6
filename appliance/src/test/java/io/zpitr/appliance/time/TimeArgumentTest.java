package io.zpitr.appliance.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.error.ZpitrException;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class TimeArgumentTest {
    private static final ZoneId SG = ZoneId.of("Asia/Singapore");
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @Test
    void isoWithOffsetOrZ() {
        assertEquals(
                OffsetDateTime.parse("2026-11-20T04:01:00+08:00"),
                TimeArgument.parse("2026-11-20T04:01:00+08:00", BERLIN));
        assertEquals(
                OffsetDateTime.parse("2026-11-19T20:01:00Z").toInstant(),
                TimeArgument.parse("2026-11-19T20:01:00Z", SG).toInstant());
    }

    @Test
    void psqlsOwnFormPastedFromAQuery() {
        assertEquals(
                OffsetDateTime.parse("2026-11-20T04:01:00.123456+08:00"),
                TimeArgument.parse("2026-11-20 04:01:00.123456+08", BERLIN));
        assertEquals(
                OffsetDateTime.parse("2026-11-20T04:01:00+05:30"),
                TimeArgument.parse("2026-11-20 04:01:00+05:30", BERLIN));
    }

    @Test
    void localTimeIsReadInTheConfiguredZone() {
        assertEquals(OffsetDateTime.parse("2026-11-20T03:59:00+08:00"), TimeArgument.parse("2026-11-20 03:59:00", SG));
        assertEquals(
                OffsetDateTime.parse("2026-07-01T12:00:00+02:00"), TimeArgument.parse("2026-07-01 12:00:00", BERLIN));
    }

    @Test
    void dstGapsAndRepeatsAreRefused() {
        ZpitrException gap =
                assertThrows(ZpitrException.class, () -> TimeArgument.parse("2026-03-29 02:30:00", BERLIN));
        assertTrue(gap.getMessage().contains("does not exist"), gap.getMessage());
        ZpitrException twice =
                assertThrows(ZpitrException.class, () -> TimeArgument.parse("2026-10-25 02:30:00", BERLIN));
        assertTrue(twice.getMessage().contains("happens twice"), twice.getMessage());
        assertEquals(
                OffsetDateTime.parse("2026-10-25T02:30:00+01:00"),
                TimeArgument.parse("2026-10-25 02:30:00+01", BERLIN));
    }

    @Test
    void impossibleTimesAreRefused() {
        for (String bad : new String[] {
            "2026-02-30 10:00:00",
            "2026-11-20 25:00:00",
            "yesterday",
            "2026-11-20",
            "2026-11-20 04:01:00+25",
            "2026-11-20 04:01:00; drop table x"
        }) {
            assertEquals(
                    ZpitrError.INVALID_ARGUMENT,
                    assertThrows(ZpitrException.class, () -> TimeArgument.parse(bad, SG), bad)
                            .error(),
                    bad);
        }
    }
}

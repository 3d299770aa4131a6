package io.zpitr.appliance.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.snapshot.SnapshotSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The scheduled drill's choice: never-drilled sets first, oldest first, then the one proven longest ago; all in turn. */
class DrillRotationTest {
    static final Instant T0 = Instant.parse("2026-11-01T04:01:00Z");

    static SnapshotSet set(int day, Instant verifiedAt) {
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
                verifiedAt == null ? null : "passed",
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
}

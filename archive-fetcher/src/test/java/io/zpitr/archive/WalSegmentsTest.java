package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class WalSegmentsTest {
    private static final long MB16 = 16L << 20;

    @Test
    void nextWithinALog() {
        assertEquals(
                "000000010000000000000004",
                WalSegments.next(WalFileName.of("000000010000000000000003"), MB16)
                        .name());
    }

    @Test
    void nextCrossesIntoTheNextLogAfter256SegmentsOf16MB() {
        assertEquals(
                "000000020000000100000000",
                WalSegments.next(WalFileName.of("0000000200000000000000FF"), MB16)
                        .name());
    }

    @Test
    void otherSegmentSizes() {
        long mb64 = 64L << 20; // 64 segments per log
        assertEquals(
                "000000010000000100000000",
                WalSegments.next(WalFileName.of("00000001000000000000003F"), mb64)
                        .name());
        assertEquals(
                "000000010000000100000002",
                WalSegments.offset(WalFileName.of("000000010000000000000002"), 64, mb64)
                        .name());
        assertThrows(
                IllegalArgumentException.class,
                () -> WalSegments.next(WalFileName.of("000000010000000000000002"), 3_000_000));
    }

    @Test
    void onlySegmentsHaveANext() {
        assertThrows(IllegalArgumentException.class, () -> WalSegments.next(WalFileName.of("00000002.history"), MB16));
    }
}

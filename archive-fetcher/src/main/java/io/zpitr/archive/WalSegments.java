// Arithmetic on WAL segment names: which segment comes next for a given segment size.
package io.zpitr.archive;

/**
 * WAL segment names are {@code TTTTTTTT LLLLLLLL SSSSSSSS}: timeline, "log" number and segment
 * within the log, where one log spans 4 GiB, so it holds {@code 0x100000000 / segmentSize}
 * segments (256 of 16 MB).
 */
public final class WalSegments {
    /** PostgreSQL's default segment size (initdb --wal-segsize), the one zpitr assumes unless told. */
    public static final long DEFAULT_SIZE = 16L << 20;

    private WalSegments() {}

    /** The name of the segment holding {@code lsn} on {@code timeline}: PostgreSQL's XLByteToSeg and XLogFileName. */
    public static String nameAt(long lsn, long timeline, long segmentSize) {
        long perLog = segmentsPerLog(segmentSize);
        long number = Long.divideUnsigned(lsn, segmentSize);
        return String.format("%08X%08X%08X", timeline, number / perLog, number % perLog);
    }

    /** The segment after {@code segment} on the same timeline. */
    public static WalFileName next(WalFileName segment, long segmentSize) {
        return offset(segment, 1, segmentSize);
    }

    /** The segment {@code n} after {@code segment} on the same timeline. */
    public static WalFileName offset(WalFileName segment, long n, long segmentSize) {
        long perLog = segmentsPerLog(segmentSize);
        long number = segmentNumber(segment, segmentSize) + n;
        return WalFileName.of(String.format("%08X%08X%08X", segment.timeline(), number / perLog, number % perLog));
    }

    /** The absolute segment number (the LSN of its start divided by the segment size). */
    public static long segmentNumber(WalFileName segment, long segmentSize) {
        if (segment.kind() != WalFileName.Kind.SEGMENT) {
            throw new IllegalArgumentException(segment + " is not a WAL segment");
        }
        String ls = segment.logAndSegment();
        return Long.parseLong(ls.substring(0, 8), 16) * segmentsPerLog(segmentSize)
                + Long.parseLong(ls.substring(8), 16);
    }

    private static long segmentsPerLog(long segmentSize) {
        if (segmentSize < (1 << 20) || segmentSize > (1L << 30) || Long.bitCount(segmentSize) != 1) {
            throw new IllegalArgumentException(
                    "WAL segment size " + segmentSize + " is not a power of two from 1 MB to 1 GB");
        }
        return 0x1_0000_0000L / segmentSize;
    }
}

// Reads the header at the start of a WAL page, as PostgreSQL writes it on x86 (little-endian).
package io.zpitr.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * One WAL page header: {@code XLogPageHeaderData}, and for the long header that opens every
 * segment also the fields of {@code XLogLongPageHeaderData} (src/include/access/xlog_internal.h).
 *
 * <p>Layout, identical in PostgreSQL 11 to 18 on 64-bit little-endian machines:
 * <pre>
 *  0 uint16 xlp_magic       8 uint64 xlp_pageaddr     24 uint64 xlp_sysid        (long header only)
 *  2 uint16 xlp_info       16 uint32 xlp_rem_len      32 uint32 xlp_seg_size     (long header only)
 *  4 uint32 xlp_tli        20 (padding to MAXALIGN)   36 uint32 xlp_xlog_blcksz  (long header only)
 * </pre>
 * {@code SizeOfXLogShortPHD} is MAXALIGN(20) = 24 and {@code SizeOfXLogLongPHD} is 40.
 *
 * @param magic            xlp_magic, the WAL format version of the major that wrote it
 * @param info             xlp_info flag bits
 * @param timeline         xlp_tli, the timeline of the first record on the page
 * @param pageAddress      xlp_pageaddr, the LSN of the page's first byte
 * @param systemIdentifier xlp_sysid (long header), else 0
 * @param segmentSize      xlp_seg_size (long header), else 0
 * @param blockSize        xlp_xlog_blcksz (long header), else 0
 */
record WalPageHeader(
        int magic, int info, long timeline, long pageAddress, long systemIdentifier, long segmentSize, long blockSize) {
    static final int SHORT_SIZE = 24;
    static final int LONG_SIZE = 40;
    /** XLP_LONG_HEADER: the page carries the long header (the first page of a segment). */
    static final int XLP_LONG_HEADER = 0x0002;
    /** XLP_ALL_FLAGS: every flag bit defined in 11 to 18; PostgreSQL refuses a page with others set. */
    static final int XLP_ALL_FLAGS = 0x0007;

    /**
     * XLOG_PAGE_MAGIC of each supported major, as in each release branch's xlog_internal.h
     * (cross-checked against pgBackRest's per-version copy of those headers, and 11, 15, 16, 17 and
     * 18 against real WAL of 11.22, 15, 16.4, 17.6 and 18.1 by the appliance's Major11IT to Major18IT).
     * A major bumps it whenever the WAL format changes; 17 changed it during its betas.
     */
    static final Map<Integer, Integer> MAJOR_BY_MAGIC = Map.of(
            0xD098, 11,
            0xD101, 12,
            0xD106, 13,
            0xD10D, 14,
            0xD110, 15,
            0xD113, 16,
            0xD116, 17,
            0xD118, 18);

    /** The long header at the start of a segment; the caller has checked the file holds LONG_SIZE bytes. */
    static WalPageHeader readLong(FileChannel channel) throws IOException {
        ByteBuffer b = readFully(channel, 0, LONG_SIZE);
        return new WalPageHeader(
                Short.toUnsignedInt(b.getShort(0)),
                Short.toUnsignedInt(b.getShort(2)),
                Integer.toUnsignedLong(b.getInt(4)),
                b.getLong(8),
                b.getLong(24),
                Integer.toUnsignedLong(b.getInt(32)),
                Integer.toUnsignedLong(b.getInt(36)));
    }

    /** The short header of the page at {@code position}; the caller has checked the file is long enough. */
    static WalPageHeader readShort(FileChannel channel, long position) throws IOException {
        ByteBuffer b = readFully(channel, position, SHORT_SIZE);
        return new WalPageHeader(
                Short.toUnsignedInt(b.getShort(0)),
                Short.toUnsignedInt(b.getShort(2)),
                Integer.toUnsignedLong(b.getInt(4)),
                b.getLong(8),
                0,
                0,
                0);
    }

    /** The major whose XLOG_PAGE_MAGIC this is, if it is one of the supported ones. */
    OptionalInt postgresMajor() {
        Integer major = MAJOR_BY_MAGIC.get(magic);
        return major == null ? OptionalInt.empty() : OptionalInt.of(major);
    }

    boolean hasLongHeaderFlag() {
        return (info & XLP_LONG_HEADER) != 0;
    }

    /** An LSN the way PostgreSQL prints it: {@code 0/3000000}. */
    static String lsn(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase(Locale.ROOT) + "/"
                + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(Locale.ROOT);
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            int n = channel.read(b, position + b.position());
            if (n < 0) {
                throw new IOException(
                        "file ended at byte " + (position + b.position()) + " while reading a WAL page header");
            }
        }
        return b;
    }
}

// Decides whether a downloaded file really is the WAL file it is named after, before it reaches %p.
package io.zpitr.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a downloaded copy against the {@link WalFileName} it should be, so that a truncated,
 * mislabelled or foreign file on one archive host is skipped for a good copy on the next instead of
 * being handed to PostgreSQL.
 *
 * <ul>
 * <li>Segments and {@code .partial} segments: the long page header at offset 0 carries the
 *     XLOG_PAGE_MAGIC of a supported major (11 to 18), the long-header flag, a valid segment size
 *     (a power of two, 1 MB to 1 GB) that equals the file's size (PostgreSQL archives
 *     {@code .partial} files full-size, zero-padded), a valid WAL block size (a power of two,
 *     1 kB to 64 kB), the page address where the name's segment starts for that segment size, and
 *     no page header with a timeline later than the name's: see {@link #verify} for why earlier
 *     ones are allowed.</li>
 * <li>Timeline history files: the name's timeline is above 1 and the text parses as PostgreSQL
 *     reads it: blank lines, {@code #} comments and {@code parentTLI <tab> X/X <tab> reason} lines
 *     with parent timelines ascending and below the file's own, switch points not going back.</li>
 * <li>Backup history files ({@code .backup}): a text file with a {@code START WAL LOCATION:} line
 *     naming the segment of the file name.</li>
 * </ul>
 *
 * <p>When the asking cluster's system identifier is known ({@link #forCluster}), a segment's long
 * page header must carry it too: two clusters archiving to one host (a shared archive folder, a
 * mistyped path, a re-initialised primary) write segments under the same names, and PostgreSQL
 * refuses the other cluster's one ("WAL file is from different database system") and asks again,
 * forever. Such a copy is a bad copy of its source, and the next source is asked.
 *
 * <p>Thread-safe; holds no state but how to learn the expected identifier.
 */
public final class WalVerifier {
    /** Far above any real history or backup file (one line per timeline switch); keeps garbage out of memory. */
    private static final int MAX_TEXT_FILE_SIZE = 1 << 20;

    private static final long MIN_SEGMENT_SIZE = 1L << 20;
    private static final long MAX_SEGMENT_SIZE = 1L << 30;
    private static final long MIN_BLOCK_SIZE = 1L << 10;
    private static final long MAX_BLOCK_SIZE = 1L << 16;
    /**
     * What PostgreSQL's readTimeLineHistory accepts: {@code sscanf("%u\t%X/%X")}, where the tab
     * matches any run of white space; the reason after it is ignored.
     */
    private static final Pattern HISTORY_ENTRY =
            Pattern.compile("(\\d{1,10})\\s+([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})(?:\\s.*)?");

    private static final Pattern BACKUP_START =
            Pattern.compile("START WAL LOCATION: [0-9A-F]{1,8}/[0-9A-F]{1,8} \\(file ([0-9A-F]{24})\\)");

    /**
     * The outcome of one verification.
     *
     * @param ok               whether the copy may be handed to PostgreSQL
     * @param reason           why it may not, in one line for the log (e.g. {@code size 8388608,
     *                         expected 16777216 from its long page header}); empty when ok
     * @param postgresMajor    for a good segment, the major whose WAL format it is
     * @param systemIdentifier for a good segment, the system identifier of the cluster that wrote it
     * @param segmentSize      for a good segment, its WAL segment size in bytes
     */
    public record Result(
            boolean ok,
            String reason,
            OptionalInt postgresMajor,
            OptionalLong systemIdentifier,
            OptionalLong segmentSize) {
        public Result {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(postgresMajor, "postgresMajor");
            Objects.requireNonNull(systemIdentifier, "systemIdentifier");
            Objects.requireNonNull(segmentSize, "segmentSize");
            if (ok != reason.isEmpty()) {
                throw new IllegalArgumentException("a refusal needs a reason, and only a refusal has one");
            }
        }

        static Result good() {
            return new Result(true, "", OptionalInt.empty(), OptionalLong.empty(), OptionalLong.empty());
        }

        static Result goodSegment(int major, long systemIdentifier, long segmentSize) {
            return new Result(
                    true, "", OptionalInt.of(major), OptionalLong.of(systemIdentifier), OptionalLong.of(segmentSize));
        }

        static Result refused(String reason) {
            // One log line: a reason quoting file content must not break it.
            return new Result(
                    false,
                    reason.replace('\t', ' ').replaceAll("\\p{Cntrl}", "?"),
                    OptionalInt.empty(),
                    OptionalLong.empty(),
                    OptionalLong.empty());
        }
    }

    private final Supplier<OptionalLong> expectedSystemIdentifier;

    /** A verifier that accepts WAL of any cluster (the asking cluster is not known). */
    public WalVerifier() {
        this(OptionalLong::empty);
    }

    /**
     * A verifier that asks {@code expectedSystemIdentifier} before each segment which cluster's WAL
     * is wanted (say, a spool's recorded identifier, which may become known later); empty accepts any.
     */
    public WalVerifier(Supplier<OptionalLong> expectedSystemIdentifier) {
        this.expectedSystemIdentifier = Objects.requireNonNull(expectedSystemIdentifier, "expectedSystemIdentifier");
    }

    /** A verifier that accepts only segments written by the cluster with {@code systemIdentifier}. */
    public static WalVerifier forCluster(long systemIdentifier) {
        OptionalLong expected = OptionalLong.of(systemIdentifier);
        return new WalVerifier(() -> expected);
    }

    /** The system identifier segments must carry, if known now. */
    public OptionalLong expectedSystemIdentifier() {
        return expectedSystemIdentifier.get();
    }

    /**
     * Verifies {@code file}, a downloaded copy, against the name PostgreSQL asked for.
     *
     * <p>A bad copy is an answer, not an exception: the caller logs {@link Result#reason()} with the
     * copy's source and tries the next copy.
     *
     * <p>Timelines: a page header carries the timeline of the page's first record. The first segment
     * of a new timeline begins with the parent timeline's WAL up to the switch point (PostgreSQL
     * copies it over when the timeline starts), so its first page, and every page up to and
     * including the one holding the switch point, show the parent's timeline. When the segment was
     * closed soon after the switch (an idle server after failover, with {@code archive_timeout}),
     * that is every written page. A copy is therefore refused when its first or last written page
     * shows a timeline later than its name, or when the timeline goes backwards between them
     * (PostgreSQL itself refuses that); a segment of a parent timeline served under a child
     * timeline's name cannot be told from such a first segment by its headers, and is accepted.
     *
     * @throws IOException when {@code file} itself cannot be read (a local problem, not a bad copy)
     */
    public Result verify(Path file, WalFileName name) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(name, "name");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return switch (name.kind()) {
                case SEGMENT, PARTIAL -> verifySegment(channel, name, expectedSystemIdentifier.get());
                case HISTORY -> verifyHistory(channel, name);
                case BACKUP -> verifyBackupLabel(channel, name);
            };
        }
    }

    private static Result verifySegment(FileChannel channel, WalFileName name, OptionalLong expectedSystemIdentifier)
            throws IOException {
        long size = channel.size();
        if (size < WalPageHeader.LONG_SIZE) {
            return Result.refused("size " + size + ", too small for a WAL segment's " + WalPageHeader.LONG_SIZE
                    + "-byte long page header");
        }
        WalPageHeader first = WalPageHeader.readLong(channel);
        OptionalInt major = first.postgresMajor();
        if (major.isEmpty()) {
            return Result.refused(String.format(
                    "page magic 0x%04X is not the WAL page magic of PostgreSQL 11 to 18"
                            + " (another major, or not WAL at all)",
                    first.magic()));
        }
        if (!first.hasLongHeaderFlag()) {
            return Result.refused(String.format("first page has no long header (xlp_info 0x%04X)", first.info()));
        }
        if ((first.info() & ~WalPageHeader.XLP_ALL_FLAGS) != 0) {
            return Result.refused(
                    String.format("invalid flag bits in the first page header (xlp_info 0x%04X)", first.info()));
        }
        long segmentSize = first.segmentSize();
        if (!isPowerOfTwoWithin(segmentSize, MIN_SEGMENT_SIZE, MAX_SEGMENT_SIZE)) {
            return Result.refused(
                    "segment size " + segmentSize + " in its long page header is not a power of two from 1 MB to 1 GB");
        }
        long blockSize = first.blockSize();
        if (!isPowerOfTwoWithin(blockSize, MIN_BLOCK_SIZE, MAX_BLOCK_SIZE)) {
            return Result.refused("WAL block size " + blockSize
                    + " in its long page header is not a power of two from 1 kB to 64 kB");
        }
        if (size != segmentSize) {
            return Result.refused("size " + size + ", expected " + segmentSize + " from its long page header");
        }
        if (expectedSystemIdentifier.isPresent() && first.systemIdentifier() != expectedSystemIdentifier.getAsLong()) {
            return Result.refused("system identifier " + Long.toUnsignedString(first.systemIdentifier())
                    + " in its long page header, but the asking cluster's is "
                    + Long.toUnsignedString(expectedSystemIdentifier.getAsLong())
                    + ": another cluster's WAL under the same name (two clusters archiving to one folder,"
                    + " or a re-initialised primary?)");
        }

        String logAndSegment = name.logAndSegment();
        long log = Long.parseLong(logAndSegment.substring(0, 8), 16);
        long segment = Long.parseLong(logAndSegment.substring(8), 16);
        long segmentsPerLog = 0x1_0000_0000L / segmentSize;
        if (segment >= segmentsPerLog) {
            return Result.refused(String.format(
                    "the name's segment part %08X is out of range for %s segments" + " (at most %08X)",
                    segment, (segmentSize >> 20) + " MB", segmentsPerLog - 1));
        }
        long start = (log * segmentsPerLog + segment) * segmentSize;
        if (first.pageAddress() != start) {
            return Result.refused("page address " + WalPageHeader.lsn(first.pageAddress()) + " in its header, but "
                    + name + " starts at " + WalPageHeader.lsn(start));
        }
        long nameTimeline = name.timeline();
        if (first.timeline() > nameTimeline) {
            return Result.refused("timeline " + first.timeline() + " in its first page header,"
                    + " but the name says timeline " + nameTimeline);
        }
        WalPageHeader last = lastWrittenPage(channel, first, start, blockSize);
        if (last.timeline() > nameTimeline) {
            return Result.refused("timeline " + last.timeline() + " in its last written page header (at "
                    + WalPageHeader.lsn(last.pageAddress()) + "), but the name says timeline " + nameTimeline);
        }
        if (last.timeline() < first.timeline()) {
            return Result.refused("timeline goes back from " + first.timeline() + " on its first page to "
                    + last.timeline() + " on its page at " + WalPageHeader.lsn(last.pageAddress()));
        }
        return Result.goodSegment(major.getAsInt(), first.systemIdentifier(), segmentSize);
    }

    /**
     * The header of the last page PostgreSQL wrote in this segment: the last one with the first
     * page's magic and its own address. Pages after it are zeroed (PostgreSQL zeroes the rest of a
     * segment after a WAL switch, headers included) or leftovers of a recycled segment (in a
     * .partial file).
     */
    private static WalPageHeader lastWrittenPage(FileChannel channel, WalPageHeader first, long start, long blockSize)
            throws IOException {
        for (long page = channel.size() - blockSize; page > 0; page -= blockSize) {
            WalPageHeader header = WalPageHeader.readShort(channel, page);
            if (header.magic() == first.magic() && header.pageAddress() == start + page) {
                return header;
            }
        }
        return first;
    }

    private static Result verifyHistory(FileChannel channel, WalFileName name) throws IOException {
        long ownTimeline = name.timeline();
        if (ownTimeline <= 1) {
            return Result.refused("timeline " + ownTimeline + " has no history file: timelines start at 1");
        }
        String text = readText(channel);
        if (text == null) {
            return Result.refused("size " + channel.size() + ", too large for a timeline history file");
        }
        if (text.indexOf('\0') >= 0) {
            return Result.refused("contains NUL bytes: not a timeline history file");
        }
        if (text.isEmpty()) {
            return Result.refused("empty: a timeline history file names at least its parent timeline");
        }
        // PostgreSQL ends every line it writes with a newline; without one the file was cut short,
        // possibly inside a switch point, which would then read as a different LSN.
        if (!text.endsWith("\n")) {
            return Result.refused("last line has no newline: the file was cut short");
        }
        long previousTimeline = 0;
        long previousSwitch = 0;
        int entries = 0;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int lineNumber = i + 1;
            Matcher m = HISTORY_ENTRY.matcher(line);
            if (!m.matches()) {
                return Result.refused(
                        "line " + lineNumber + " is not 'parentTLI<tab>X/X<tab>reason': '" + abbreviated(line) + "'");
            }
            long timeline = Long.parseLong(m.group(1));
            long switchPoint = Long.parseLong(m.group(2), 16) << 32 | Long.parseLong(m.group(3), 16);
            if (timeline < 1 || timeline <= previousTimeline) {
                return Result.refused(
                        "line " + lineNumber + ": timeline " + timeline + " does not ascend from " + previousTimeline);
            }
            if (timeline >= ownTimeline) {
                return Result.refused("line " + lineNumber + ": parent timeline " + timeline
                        + " is not below the file's own timeline " + ownTimeline);
            }
            if (Long.compareUnsigned(switchPoint, previousSwitch) < 0) {
                return Result.refused("line " + lineNumber + ": switch point " + WalPageHeader.lsn(switchPoint)
                        + " lies before the previous one, " + WalPageHeader.lsn(previousSwitch));
            }
            previousTimeline = timeline;
            previousSwitch = switchPoint;
            entries++;
        }
        if (entries == 0) {
            return Result.refused("no 'parentTLI<tab>X/X<tab>reason' line: a timeline history file"
                    + " names at least its parent timeline");
        }
        return Result.good();
    }

    private static Result verifyBackupLabel(FileChannel channel, WalFileName name) throws IOException {
        String text = readText(channel);
        if (text == null) {
            return Result.refused("size " + channel.size() + ", too large for a backup history file");
        }
        if (text.indexOf('\0') >= 0) {
            return Result.refused("contains NUL bytes: not a backup history file");
        }
        String expectedSegment = name.name().substring(0, 24);
        for (String line : text.split("\n")) {
            if (line.startsWith("START WAL LOCATION:")) {
                Matcher m = BACKUP_START.matcher(line.strip());
                if (m.matches() && !m.group(1).equals(expectedSegment)) {
                    return Result.refused(
                            "its START WAL LOCATION is in " + m.group(1) + ", but the name says " + expectedSegment);
                }
                return Result.good();
            }
        }
        return Result.refused("no 'START WAL LOCATION:' line: not a backup history file");
    }

    /** The whole file as text, or null when it is larger than any real history or backup file. */
    private static String readText(FileChannel channel) throws IOException {
        long size = channel.size();
        if (size > MAX_TEXT_FILE_SIZE) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate((int) size);
        while (b.hasRemaining()) {
            if (channel.read(b, b.position()) < 0) {
                break;
            }
        }
        // ISO-8859-1 maps every byte to one char: garbage shows up in a reason instead of throwing.
        return new String(b.array(), 0, b.position(), StandardCharsets.ISO_8859_1);
    }

    private static boolean isPowerOfTwoWithin(long value, long min, long max) {
        return value >= min && value <= max && Long.bitCount(value) == 1;
    }

    private static String abbreviated(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }
}

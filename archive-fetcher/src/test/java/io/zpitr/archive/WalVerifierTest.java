// Proves WalVerifier on WAL archived by a real PostgreSQL 15, on corrupted copies of it, and on hand-built headers.
package io.zpitr.archive;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.zpitr.fixtures.Fs;
import io.zpitr.fixtures.PostgresCluster;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class WalVerifierTest {
    private static final long MB = 1L << 20;
    private static final long SEGMENT_16MB = 16 * MB;
    private static final Duration ARCHIVE_WAIT = Duration.ofSeconds(90);

    private final WalVerifier verifier = new WalVerifier();

    @TempDir
    Path scratch;

    // WAL archived by a real PostgreSQL 15 in @BeforeAll; the cluster is gone before the first test.
    private static Path workDir;
    private static Path archive;
    private static long systemIdentifier;
    private static java.util.OptionalLong identityInPgControl;
    private static final List<String> timeline1Segments = new ArrayList<>();
    private static final List<String> timeline2Segments = new ArrayList<>();
    /** The first segment of timeline 2: it begins with timeline 1's WAL up to the switch point. */
    private static String forkSegment;
    /** Timeline 1's last segment, archived as .partial when recovery ended on timeline 2. */
    private static String partialSegment;

    private static String backupFile;

    @BeforeAll
    static void archiveRealWal() throws Exception {
        workDir = Files.createTempDirectory(Path.of("/var/tmp"), "zpitr-walverifier-");
        archive = Files.createDirectory(workDir.resolve("archive"));
        UserPrincipal postgres =
                archive.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
        Files.setOwner(workDir, postgres);
        Files.setOwner(archive, postgres);

        try (PostgresCluster pg = PostgresCluster.builder()
                .setting("archive_mode", "on")
                // Copy, then rename: a file that exists in the archive is complete.
                .setting(
                        "archive_command",
                        "cp %p " + archive + "/%f.tmp && mv " + archive + "/%f.tmp " + archive + "/%f")
                // Used only when recovery.signal asks for archive recovery, below.
                .setting("restore_command", "cp " + archive + "/%f %p")
                .build()) {
            pg.start();
            systemIdentifier = Long.parseLong(pg.psql("select system_identifier from pg_control_system()"));
            identityInPgControl = ClusterIdentity.ofDataDirectory(pg.dataDir());
            pg.psql("create table t (i int)");
            for (int i = 0; i < 3; i++) {
                timeline1Segments.add(writeAndSwitch(pg));
            }
            // One psql call, hence one session, as a non-exclusive backup requires.
            String backupLine = pg.psql("select pg_walfile_name(lsn) from pg_backup_start('zpitr test', true) lsn;"
                    + " select 'stopped' from pg_backup_stop()");
            // pg_backup_stop waits until the backup's WAL is archived, the .backup file included.
            backupFile = archivedNameEndingWith(".backup");
            assertTrue(
                    backupFile != null && backupFile.startsWith(backupLine.substring(0, 24)),
                    backupFile + " for a backup starting at " + backupLine);
            awaitArchived(timeline1Segments);

            // Archive recovery to the end of WAL ends on a new timeline: PostgreSQL writes and
            // archives 00000002.history and the old timeline's last segment as .partial.
            pg.stop();
            Path signal = Files.createFile(pg.dataDir().resolve("recovery.signal"));
            Files.setOwner(signal, postgres);
            pg.start();
            await(() -> "f".equals(pg.psql("select pg_is_in_recovery()")), "the end of archive recovery");
            assertEquals("00000002", pg.psql("select substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"));
            forkSegment = writeAndSwitch(pg);
            timeline2Segments.add(forkSegment);
            timeline2Segments.add(writeAndSwitch(pg));
            awaitArchived(timeline2Segments);
            awaitArchived(List.of("00000002.history"));
            await(() -> archivedNameEndingWith(".partial") != null, "a .partial segment in " + archive);
            partialSegment = archivedNameEndingWith(".partial");
        }
    }

    @AfterAll
    static void removeRealArchive() throws IOException {
        Fs.deleteTree(workDir);
    }

    /** Writes some WAL, switches, and returns the name of the segment the switch completed. */
    private static String writeAndSwitch(PostgresCluster pg) {
        pg.psql("insert into t select generate_series(1, 1000)");
        return pg.psql("select pg_walfile_name(pg_switch_wal())");
    }

    private static String archivedNameEndingWith(String suffix) {
        try (Stream<Path> files = Files.list(archive)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(suffix))
                    .findFirst()
                    .orElse(null);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void awaitArchived(List<String> names) throws InterruptedException {
        for (String name : names) {
            await(() -> Files.exists(archive.resolve(name)), name + " in " + archive);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + ARCHIVE_WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("gave up waiting for " + what + " after " + ARCHIVE_WAIT);
            }
            Thread.sleep(100);
        }
    }

    private WalVerifier.Result verify(Path file, String name) throws IOException {
        return verifier.verify(file, WalFileName.of(name));
    }

    private static void assertRefused(WalVerifier.Result result, String expectedReason) {
        assertFalse(result.ok(), "accepted, expected refusal: " + expectedReason);
        assertTrue(
                result.reason().contains(expectedReason),
                "reason '" + result.reason() + "' should contain '" + expectedReason + "'");
        assertFalse(result.reason().contains("\n"), "reason must fit one log line: " + result.reason());
        assertTrue(result.postgresMajor().isEmpty() && result.systemIdentifier().isEmpty());
    }

    private static Path archived(String name) {
        return archive.resolve(name);
    }

    /** A copy of a real archived file under another name, as a confused archive host would serve it. */
    private Path copyAs(String archived, String name) throws IOException {
        return Files.copy(archived(archived), scratch.resolve(name));
    }

    // ---- real WAL ----------------------------------------------------------------------------

    @Test
    void acceptsEveryRealSegmentAndReportsItsOrigin() throws IOException {
        List<String> all = new ArrayList<>(timeline1Segments);
        all.addAll(timeline2Segments);
        assertEquals(5, all.size());
        for (String name : all) {
            WalVerifier.Result result = verify(archived(name), name);
            assertTrue(result.ok(), name + ": " + result.reason());
            assertEquals("", result.reason());
            assertEquals(OptionalInt.of(15), result.postgresMajor(), name);
            assertEquals(systemIdentifier, result.systemIdentifier().orElseThrow(), name);
            assertEquals(SEGMENT_16MB, result.segmentSize().orElseThrow(), name);
        }
    }

    @Test
    void readsTheSystemIdentifierOfARealDataDirectory() throws IOException {
        assertEquals(java.util.OptionalLong.of(systemIdentifier), identityInPgControl);
        assertEquals(java.util.OptionalLong.empty(), ClusterIdentity.ofDataDirectory(scratch), "not a data directory");
    }

    @Test
    void acceptsARealSegmentOfTheAskingClusterAndRefusesItForAnother() throws IOException {
        String name = timeline1Segments.get(0);
        WalVerifier.Result own = WalVerifier.forCluster(systemIdentifier).verify(archived(name), WalFileName.of(name));
        assertTrue(own.ok(), own.reason());

        long other = systemIdentifier + 1;
        WalVerifier.Result foreign = WalVerifier.forCluster(other).verify(archived(name), WalFileName.of(name));
        assertRefused(
                foreign,
                "system identifier " + Long.toUnsignedString(systemIdentifier)
                        + " in its long page header, but the asking cluster's is " + Long.toUnsignedString(other)
                        + ": another cluster's WAL under the same name");
        // History files carry no identifier: the check is for segments.
        WalVerifier.Result history =
                WalVerifier.forCluster(other).verify(archived("00000002.history"), WalFileName.of("00000002.history"));
        assertTrue(history.ok(), history.reason());
    }

    @Test
    void acceptsTheRealFirstSegmentOfANewTimelineWhoseFirstPageShowsTheParent() throws IOException {
        String fork = forkSegment;
        assertTrue(fork.startsWith("00000002"), fork);
        // What makes this segment special: its first page was written on timeline 1.
        assertEquals(1, readHeaderInt(archived(fork), 4));
        WalVerifier.Result result = verify(archived(fork), fork);
        assertTrue(result.ok(), result.reason());
    }

    @Test
    void acceptsTheRealPartialSegment() throws IOException {
        String partial = partialSegment;
        assertTrue(partial.startsWith("00000001"), partial);
        WalVerifier.Result result = verify(archived(partial), partial);
        assertTrue(result.ok(), result.reason());
        assertEquals(OptionalInt.of(15), result.postgresMajor());
    }

    @Test
    void acceptsTheRealHistoryFile() throws IOException {
        Path history = archived("00000002.history");
        assertTrue(Files.readString(history).startsWith("1\t"), Files.readString(history));
        WalVerifier.Result result = verify(history, "00000002.history");
        assertTrue(result.ok(), result.reason());
    }

    @Test
    void acceptsTheRealBackupHistoryFile() throws IOException {
        WalVerifier.Result result = verify(archived(backupFile), backupFile);
        assertTrue(result.ok(), result.reason());
    }

    @Test
    void refusesATruncatedCopy() throws IOException {
        String name = timeline1Segments.get(0);
        Path copy = copyAs(name, name);
        try (RandomAccessFile file = new RandomAccessFile(copy.toFile(), "rw")) {
            file.setLength(8 * MB);
        }
        assertRefused(verify(copy, name), "size 8388608, expected 16777216 from its long page header");
    }

    @Test
    void refusesAnEmptyCopy() throws IOException {
        Path empty = Files.createFile(scratch.resolve("empty"));
        assertRefused(
                verify(empty, timeline1Segments.get(0)),
                "size 0, too small for a WAL segment's 40-byte long page header");
    }

    @Test
    void refusesACopyWithAWrongMagic() throws IOException {
        String name = timeline1Segments.get(0);
        Path copy = copyAs(name, name);
        try (RandomAccessFile file = new RandomAccessFile(copy.toFile(), "rw")) {
            file.write(new byte[] {0x34, 0x12});
        }
        assertRefused(verify(copy, name), "page magic 0x1234 is not the WAL page magic of PostgreSQL 11 to 18");
    }

    @Test
    void refusesASegmentServedUnderTheNextSegmentsName() throws IOException {
        String name = timeline1Segments.get(0);
        long segment = Long.parseLong(name.substring(16), 16);
        String next = name.substring(0, 16) + String.format("%08X", segment + 1);
        WalVerifier.Result result = verify(copyAs(name, next), next);
        assertRefused(
                result,
                String.format(
                        "page address 0/%X000000 in its header, but %s starts at 0/%X000000",
                        segment, next, segment + 1));
    }

    @Test
    void cannotTellATimeline1SegmentUnderATimeline2NameFromTheFirstSegmentOfTimeline2() throws IOException {
        // Every written page of timeline 2's first segment may show timeline 1 (a switch soon after
        // the fork), just like this copy: page headers cannot tell, so refusing would refuse that.
        String name = timeline1Segments.get(1);
        String renamed = "00000002" + name.substring(8);
        WalVerifier.Result result = verify(copyAs(name, renamed), renamed);
        assertTrue(result.ok(), result.reason());
    }

    @Test
    void refusesATimeline2SegmentServedUnderATimeline1Name() throws IOException {
        String name = timeline2Segments.get(1);
        String renamed = "00000001" + name.substring(8);
        assertRefused(
                verify(copyAs(name, renamed), renamed),
                "timeline 2 in its first page header, but the name says timeline 1");
    }

    @Test
    void refusesTheForkSegmentServedUnderItsParentTimelinesName() throws IOException {
        // Same first page as timeline 1's segment; the pages after the switch point tell them apart.
        String renamed = "00000001" + forkSegment.substring(8);
        assertRefused(
                verify(copyAs(forkSegment, renamed), renamed), "timeline 2 in its last written page header (at 0/");
    }

    @Test
    void refusesOtherKindsOfFileUnderEachOthersNames() throws IOException {
        String segment = timeline1Segments.get(0);
        assertRefused(verify(archived("00000002.history"), segment), "is not the WAL page magic");
        assertRefused(verify(archived(segment), "00000002.history"), "size 16777216, too large");
        assertRefused(verify(archived("00000002.history"), backupFile), "no 'START WAL LOCATION:' line");
    }

    private static int readHeaderInt(Path file, int offset) throws IOException {
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            byte[] bytes = new byte[4];
            in.seek(offset);
            in.readFully(bytes);
            return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
        }
    }

    // ---- hand-built segment headers ----------------------------------------------------------

    /**
     * A sparse file with a hand-written XLogLongPageHeaderData at offset 0 (and optionally a short
     * header on the last page), laid out as in PostgreSQL's xlog_internal.h.
     */
    private static final class SegmentFile {
        int magic = 0xD110;
        int info = 0x0002;
        long timeline = 1;
        long pageAddress;
        long systemIdentifier = 7_400_000_000_000_000_001L;
        long segmentSize = SEGMENT_16MB;
        long blockSize = 8192;
        long fileSize = -1;
        /** The last page's timeline; 0 leaves the last page zeroed, as in a sparse file. */
        long lastPageTimeline;

        long lastPageAddress = -1;

        Path writeTo(Path file) throws IOException {
            long size = fileSize < 0 ? segmentSize : fileSize;
            try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
                out.setLength(size);
                ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
                b.putShort(0, (short) magic)
                        .putShort(2, (short) info)
                        .putInt(4, (int) timeline)
                        .putLong(8, pageAddress)
                        .putInt(16, 0)
                        .putLong(24, systemIdentifier)
                        .putInt(32, (int) segmentSize)
                        .putInt(36, (int) blockSize);
                out.write(b.array());
                if (lastPageTimeline != 0) {
                    long lastPage = size - blockSize;
                    ByteBuffer s = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
                    s.putShort(0, (short) magic)
                            .putShort(2, (short) 0)
                            .putInt(4, (int) lastPageTimeline)
                            .putLong(8, lastPageAddress < 0 ? pageAddress + lastPage : lastPageAddress);
                    out.seek(lastPage);
                    out.write(s.array());
                }
            }
            return file;
        }
    }

    private WalVerifier.Result verifyBuilt(SegmentFile segment, String name) throws IOException {
        return verify(segment.writeTo(scratch.resolve(name)), name);
    }

    static Stream<Arguments> supportedMagics() {
        return Stream.of(
                Arguments.of(11, 0xD098),
                Arguments.of(12, 0xD101),
                Arguments.of(13, 0xD106),
                Arguments.of(14, 0xD10D),
                Arguments.of(15, 0xD110),
                Arguments.of(16, 0xD113),
                Arguments.of(17, 0xD116),
                Arguments.of(18, 0xD118));
    }

    @ParameterizedTest(name = "PostgreSQL {0}: magic {1}")
    @MethodSource("supportedMagics")
    void acceptsTheMagicOfEachSupportedMajor(int major, int magic) throws IOException {
        SegmentFile segment = new SegmentFile();
        segment.magic = magic;
        segment.pageAddress = 0x3000000L;
        WalVerifier.Result result = verifyBuilt(segment, "000000010000000000000003");
        assertTrue(result.ok(), result.reason());
        assertEquals(OptionalInt.of(major), result.postgresMajor());
        assertEquals(7_400_000_000_000_000_001L, result.systemIdentifier().orElseThrow());
    }

    @ParameterizedTest
    @ValueSource(ints = {0x0000, 0xD097, 0xD117, 0xD121, 0x10D1})
    void refusesMagicsOfUnsupportedMajorsOrNoneAtAll(int magic) throws IOException {
        SegmentFile segment = new SegmentFile();
        segment.magic = magic;
        segment.pageAddress = 0x3000000L;
        assertRefused(
                verifyBuilt(segment, "000000010000000000000003"),
                String.format("page magic 0x%04X is not the WAL page magic of PostgreSQL 11 to 18", magic));
    }

    @Test
    void acceptsA64MbSegmentAtTheLastSegmentNumberOfItsLogFile() throws IOException {
        // 64 MB segments: 64 per 4 GB log file, so the segment part runs from 00 to 3F.
        SegmentFile segment = new SegmentFile();
        segment.segmentSize = 64 * MB;
        segment.timeline = 3;
        segment.pageAddress = (2L * 64 + 0x3F) * 64 * MB;
        segment.lastPageTimeline = 3;
        assertEquals(0x2_FC00_0000L, segment.pageAddress);
        WalVerifier.Result result = verifyBuilt(segment, "00000003000000020000003F");
        assertTrue(result.ok(), result.reason());
        assertEquals(64 * MB, result.segmentSize().orElseThrow());
    }

    @Test
    void refusesASegmentNumberBeyondWhatItsSegmentSizeAllows() throws IOException {
        SegmentFile segment = new SegmentFile();
        segment.segmentSize = 64 * MB;
        segment.pageAddress = 3L * 64 * MB * 64;
        assertRefused(
                verifyBuilt(segment, "000000010000000200000040"),
                "the name's segment part 00000040 is out of range for 64 MB segments (at most 0000003F)");
    }

    @Test
    void refusesA16MbFileWhoseHeaderSays64Mb() throws IOException {
        SegmentFile segment = new SegmentFile();
        segment.segmentSize = 64 * MB;
        segment.fileSize = SEGMENT_16MB;
        assertRefused(
                verifyBuilt(segment, "000000010000000000000000"),
                "size 16777216, expected 67108864 from its long page header");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 512 * 1024, 3 * 1024 * 1024, 2L * 1024 * 1024 * 1024})
    void refusesImpossibleSegmentSizes(long segmentSize) throws IOException {
        SegmentFile segment = new SegmentFile();
        segment.segmentSize = segmentSize;
        segment.fileSize = MB;
        assertRefused(
                verifyBuilt(segment, "000000010000000000000000"),
                "segment size " + (segmentSize & 0xFFFFFFFFL) + " in its long page header is not a power of two"
                        + " from 1 MB to 1 GB");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 512, 3000, 128 * 1024})
    void refusesImpossibleBlockSizes(long blockSize) throws IOException {
        SegmentFile segment = new SegmentFile();
        segment.blockSize = blockSize;
        assertRefused(
                verifyBuilt(segment, "000000010000000000000000"),
                "WAL block size " + blockSize + " in its long page header is not a power of two from 1 kB to 64 kB");
    }

    @Test
    void refusesAFirstPageWithoutTheLongHeaderFlag() throws IOException {
        SegmentFile segment = new SegmentFile();
        segment.info = 0x0001;
        assertRefused(
                verifyBuilt(segment, "000000010000000000000000"), "first page has no long header (xlp_info 0x0001)");
    }

    @Test
    void refusesUndefinedFlagBits() throws IOException {
        SegmentFile segment = new SegmentFile();
        segment.info = 0x0012;
        assertRefused(
                verifyBuilt(segment, "000000010000000000000000"),
                "invalid flag bits in the first page header (xlp_info 0x0012)");
    }

    @ParameterizedTest(name = "first page {0}, last page {1}, named {2}: {3}")
    @CsvSource({
        "1, 2, 2, ''",
        "2, 2, 2, ''",
        "1, 0, 2, ''",
        "1, 1, 2, ''",
        "1, 3, 2, timeline 3 in its last written page header (at 0/5FFE000), but the name says timeline 2",
        "2, 1, 2, timeline goes back from 2 on its first page to 1 on its page at 0/5FFE000",
        "3, 3, 2, timeline 3 in its first page header, but the name says timeline 2",
    })
    void judgesTimelinesByFirstAndLastPage(long first, long last, long named, String reason) throws IOException {
        SegmentFile segment = new SegmentFile();
        segment.timeline = first;
        segment.lastPageTimeline = last;
        segment.pageAddress = 0x5000000L;
        WalVerifier.Result result = verifyBuilt(segment, String.format("%08X0000000000000005", named));
        if (reason.isEmpty()) {
            assertTrue(result.ok(), result.reason());
        } else {
            assertRefused(result, reason);
        }
    }

    @Test
    void judgesOnlyPagesThatBelongToThisSegment() throws IOException {
        // A page of another segment (a recycled file's leftover) says nothing about this one.
        SegmentFile segment = new SegmentFile();
        segment.pageAddress = 0x5000000L;
        segment.lastPageTimeline = 7;
        segment.lastPageAddress = 0x3FFE000L;
        WalVerifier.Result result = verifyBuilt(segment, "000000010000000000000005");
        assertTrue(result.ok(), result.reason());
    }

    @Test
    void ignoresThePartialSegmentsTailWhichMayHoldLeftovers() throws IOException {
        SegmentFile segment = new SegmentFile();
        segment.timeline = 1;
        segment.pageAddress = 0x5000000L;
        segment.lastPageTimeline = 1;
        segment.lastPageAddress = 0x1FFE000L;
        WalVerifier.Result result = verifyBuilt(segment, "000000020000000000000005.partial");
        assertTrue(result.ok(), result.reason());
    }

    // ---- timeline history files --------------------------------------------------------------

    static Stream<Arguments> malformedHistories() {
        return Stream.of(
                Arguments.of("00000002.history", "", "empty"),
                Arguments.of(
                        "00000002.history",
                        "1\t0/3000000\tno recovery target",
                        "last line has no newline: the file was cut short"),
                Arguments.of("00000002.history", "# nothing but a comment\n", "no 'parentTLI<tab>X/X<tab>reason' line"),
                Arguments.of("00000002.history", "1\n", "line 1 is not 'parentTLI<tab>X/X<tab>reason': '1'"),
                Arguments.of(
                        "00000002.history", "1\tzero\tx\n", "line 1 is not 'parentTLI<tab>X/X<tab>reason': '1 zero x'"),
                Arguments.of("00000002.history", "hello world\n", "line 1 is not"),
                Arguments.of(
                        "00000003.history",
                        "2\t0/3000000\tx\n1\t0/4000000\tx\n",
                        "line 2: timeline 1 does not ascend from 2"),
                Arguments.of(
                        "00000003.history",
                        "1\t0/3000000\tx\n1\t0/4000000\tx\n",
                        "line 2: timeline 1 does not ascend from 1"),
                Arguments.of(
                        "00000003.history",
                        "1\t0/3000000\tx\n3\t0/5000000\tx\n",
                        "line 2: parent timeline 3 is not below the file's own timeline 3"),
                Arguments.of("00000002.history", "0\t0/3000000\tx\n", "line 1: timeline 0 does not ascend from 0"),
                Arguments.of(
                        "00000003.history",
                        "1\t0/5000000\tx\n2\t0/3000000\tx\n",
                        "line 2: switch point 0/3000000 lies before the previous one, 0/5000000"),
                Arguments.of("00000001.history", "1\t0/3000000\tx\n", "timeline 1 has no history file"));
    }

    @Nested
    class HistoryFiles {
        private WalVerifier.Result verifyText(String name, String content) throws IOException {
            Path file = Files.write(scratch.resolve(name), content.getBytes(US_ASCII));
            return verify(file, name);
        }

        @Test
        void acceptsAHistoryOfSeveralSwitchesWithCommentsAndBlankLines() throws IOException {
            String content = "# written by hand\n"
                    + "1\t0/3000000\tno recovery target specified\n"
                    + "\n"
                    + "2\t0/5000028\tbefore 2026-11-20 04:01:00+00\n"
                    + "  # indented comment\n"
                    + "4\t1/A0\tat restore point \"x\"\n";
            WalVerifier.Result result = verifyText("00000005.history", content);
            assertTrue(result.ok(), result.reason());
            assertTrue(result.postgresMajor().isEmpty());
        }

        @Test
        void acceptsAnEntryWithoutReasonAsPostgresDoes() throws IOException {
            assertTrue(verifyText("00000002.history", "1\t0/3000000\n").ok());
        }

        @ParameterizedTest(name = "{0}: {2}")
        @MethodSource("io.zpitr.archive.WalVerifierTest#malformedHistories")
        void refusesMalformedHistories(String name, String content, String reason) throws IOException {
            assertRefused(verifyText(name, content), reason);
        }

        @Test
        void refusesBinaryContent() throws IOException {
            Path file = Files.write(scratch.resolve("00000002.history"), new byte[] {'1', '\t', 0, 0, '\n'});
            assertRefused(verify(file, "00000002.history"), "contains NUL bytes");
        }

        @Test
        void refusesAFileFarLargerThanAnyHistory() throws IOException {
            Path file = scratch.resolve("00000002.history");
            try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
                out.setLength(2 * MB);
            }
            assertRefused(verify(file, "00000002.history"), "size 2097152, too large for a timeline history file");
        }
    }

    // ---- backup history files ----------------------------------------------------------------

    @Nested
    class BackupFiles {
        private static final String NAME = "000000010000000000000002.00000028.backup";

        private WalVerifier.Result verifyText(String content) throws IOException {
            return verify(Files.writeString(scratch.resolve(NAME), content, US_ASCII), NAME);
        }

        @Test
        void acceptsABackupLabelNamingItsSegment() throws IOException {
            WalVerifier.Result result = verifyText("START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
                    + "STOP WAL LOCATION: 0/2000100 (file 000000010000000000000002)\n"
                    + "CHECKPOINT LOCATION: 0/2000060\nBACKUP METHOD: streamed\n");
            assertTrue(result.ok(), result.reason());
        }

        @Test
        void refusesABackupLabelOfAnotherSegment() throws IOException {
            assertRefused(
                    verifyText("START WAL LOCATION: 0/7000028 (file 000000010000000000000007)\n"),
                    "its START WAL LOCATION is in 000000010000000000000007,"
                            + " but the name says 000000010000000000000002");
        }

        @Test
        void refusesTextWithoutAStartLocation() throws IOException {
            assertRefused(
                    verifyText("LABEL: nothing else\n"), "no 'START WAL LOCATION:' line: not a backup history file");
        }
    }

    @Test
    void aMissingFileIsALocalErrorNotABadCopy() {
        Path missing = scratch.resolve("000000010000000000000001");
        try {
            verifier.verify(missing, WalFileName.of("000000010000000000000001"));
            fail("expected an IOException for " + missing);
        } catch (IOException expected) {
            assertTrue(expected.getMessage().contains(missing.toString()), expected.getMessage());
        }
    }
}

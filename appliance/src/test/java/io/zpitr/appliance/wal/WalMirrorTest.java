// WalMirror over a local "archive" of synthetic segments: what a pass copies, where it stops, what it prunes.
package io.zpitr.appliance.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.archive.LocalDirectorySource;
import io.zpitr.archive.WalFetcher;
import io.zpitr.fixtures.SyntheticWal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalMirrorTest {
    private static final long OURS = 7_400_000_000_000_000_001L;
    private static final long THEIRS = 7_400_000_000_000_000_999L;
    private static final long SIZE = 16L << 20;

    @TempDir
    Path root;

    private static SnapshotSet setAt(String redoLsn, long timeline) {
        return new SnapshotSet(
                "zpitr-20261203T000000Z",
                Instant.parse("2026-12-03T00:00:00Z"),
                List.of(),
                List.of(),
                true,
                null,
                "standby",
                timeline,
                redoLsn,
                redoLsn,
                null,
                Long.toUnsignedString(OURS),
                150010,
                750,
                new TreeSet<>(),
                0,
                0,
                null,
                null,
                null);
    }

    private Path archive() throws Exception {
        Path a = root.resolve("archive");
        Files.createDirectories(a);
        return a;
    }

    private void archived(String name, long cluster) throws Exception {
        SyntheticWal.segment(archive().resolve(name), name, cluster, SIZE, false);
    }

    private List<String> mirrored(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private WalMirror.Pass pass(WalMirror mirror, SnapshotSet newest, int max) throws Exception {
        try (WalFetcher fetcher = new WalFetcher(
                List.of(new LocalDirectorySource("archive", archive())), WalMirror.verifierFor(newest))) {
            return mirror.pass(newest, fetcher, max);
        }
    }

    @Test
    void copiesFromTheRedoSegmentToTheEndOfTheArchiveByteForByte() throws Exception {
        for (String n : List.of(
                "000000010000000000000004",
                "000000010000000000000005",
                "000000010000000000000006",
                "000000010000000000000007",
                "000000010000000000000009")) { // 08 is not archived yet
            archived(n, OURS);
        }
        WalMirror mirror = new WalMirror(root.resolve("mirror"));
        WalMirror.Pass p = pass(mirror, setAt("0/5000028", 1), Integer.MAX_VALUE);
        assertEquals(3, p.fetched(), p.describe());
        assertEquals(Optional.of("000000010000000000000007"), p.last(), p.describe());
        assertTrue(p.stopped().startsWith("end of archive (000000010000000000000008"), p.describe());
        assertFalse(p.troubled(), p.describe());
        assertEquals(
                List.of("000000010000000000000005", "000000010000000000000006", "000000010000000000000007"),
                mirrored(mirror.dir()));
        assertArrayEquals(
                Files.readAllBytes(archive().resolve("000000010000000000000006")),
                Files.readAllBytes(mirror.dir().resolve("000000010000000000000006")));

        // 08 arrives: the next pass copies 08 and 09 only.
        archived("000000010000000000000008", OURS);
        WalMirror.Pass next = pass(mirror, setAt("0/5000028", 1), Integer.MAX_VALUE);
        assertEquals(2, next.fetched(), next.describe());
        assertEquals(Optional.of("000000010000000000000009"), next.last());
    }

    @Test
    void anotherClustersSegmentNeverEntersTheMirror() throws Exception {
        archived("000000010000000000000005", OURS);
        archived("000000010000000000000006", THEIRS);
        WalMirror mirror = new WalMirror(root.resolve("mirror"));
        WalMirror.Pass p = pass(mirror, setAt("0/5000028", 1), Integer.MAX_VALUE);
        assertEquals(1, p.fetched(), p.describe());
        assertTrue(p.stopped().contains("ONLY_BAD_COPIES"), p.describe());
        assertTrue(p.troubled(), p.describe());
        assertEquals(List.of("000000010000000000000005"), mirrored(mirror.dir()));
    }

    @Test
    void aNewerSetPrunesWhatLiesBeforeItAndOtherTimelinesButNothingElse() throws Exception {
        for (int i = 5; i <= 9; i++) {
            archived("00000001000000000000000" + i, OURS);
        }
        WalMirror mirror = new WalMirror(root.resolve("mirror"));
        pass(mirror, setAt("0/5000028", 1), Integer.MAX_VALUE);
        Files.writeString(mirror.dir().resolve("000000020000000000000003"), "old timeline");
        Files.writeString(mirror.dir().resolve("README"), "not a segment: left alone");
        WalMirror.Pass p = pass(mirror, setAt("0/7000060", 1), Integer.MAX_VALUE);
        assertEquals(3, p.pruned(), p.describe());
        assertEquals(0, p.fetched(), p.describe());
        assertEquals(
                List.of("000000010000000000000007", "000000010000000000000008", "000000010000000000000009", "README"),
                mirrored(mirror.dir()));
    }

    @Test
    void aPassStopsAfterItsShareAndTheNextGoesOn() throws Exception {
        for (int i = 5; i <= 9; i++) {
            archived("00000001000000000000000" + i, OURS);
        }
        WalMirror mirror = new WalMirror(root.resolve("mirror"));
        WalMirror.Pass first = pass(mirror, setAt("0/5000028", 1), 2);
        assertEquals(2, first.fetched(), first.describe());
        assertTrue(first.stopped().startsWith("stopped after 2"), first.describe());
        assertFalse(first.troubled(), first.describe());
        WalMirror.Pass second = pass(mirror, setAt("0/5000028", 1), 10);
        assertEquals(3, second.fetched(), second.describe());
        assertFalse(Files.exists(mirror.dir().resolve("00000001000000000000000A")));
    }
}

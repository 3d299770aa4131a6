// Proves that a segment of another cluster under the right name is a bad copy: reported with both identifiers, never
// landed.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.fixtures.SyntheticWal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalFetcherForeignClusterTest {
    private static final String NAME = "000000010000000000000007";
    private static final long OURS = 7_400_000_000_000_000_001L;
    private static final long THEIRS = 7_400_000_000_000_000_999L;
    private static final long SIZE = 1L << 20;

    @TempDir
    Path root;

    @Test
    void aForeignCopyIsSkippedForTheNextSourcesOwn() throws Exception {
        SyntheticWal.segment(root.resolve("shared").resolve(NAME), NAME, THEIRS, SIZE, false);
        SyntheticWal.segment(root.resolve("own").resolve(NAME), NAME, OURS, SIZE, false);
        Path destination = root.resolve("pg_wal").resolve("RECOVERYXLOG");
        Files.createDirectories(destination.getParent());
        try (WalFetcher fetcher = new WalFetcher(
                List.of(
                        new LocalDirectorySource("shared", root.resolve("shared")),
                        new LocalDirectorySource("own", root.resolve("own"))),
                WalVerifier.forCluster(OURS))) {
            WalFetcher.Outcome outcome = fetcher.fetch(WalFileName.of(NAME), destination);
            assertEquals(
                    WalFetcher.Status.FETCHED, outcome.status(), outcome.lines().toString());
            assertTrue(
                    outcome.lines().get(0).startsWith("shared: bad copy ")
                            && outcome.lines()
                                    .get(0)
                                    .contains("system identifier " + THEIRS
                                            + " in its long page header, but the asking cluster's is " + OURS),
                    outcome.lines().toString());
            assertTrue(
                    outcome.lines().get(1).startsWith("own: fetched "),
                    outcome.lines().toString());
            assertEquals(OptionalLong.of(OURS), outcome.verification().systemIdentifier());
        }
    }

    @Test
    void onlyForeignCopiesLandNothing() throws Exception {
        SyntheticWal.segment(root.resolve("shared").resolve(NAME), NAME, THEIRS, SIZE, false);
        Path destination = root.resolve("RECOVERYXLOG");
        try (WalFetcher fetcher = new WalFetcher(
                List.of(new LocalDirectorySource("shared", root.resolve("shared"))), WalVerifier.forCluster(OURS))) {
            assertEquals(
                    WalFetcher.Status.ONLY_BAD_COPIES,
                    fetcher.fetch(WalFileName.of(NAME), destination).status());
        }
        assertTrue(Files.notExists(destination));
        try (var left = Files.list(root)) {
            assertEquals(List.of(root.resolve("shared")), left.toList(), "no temporary file is left");
        }
    }

    @Test
    void theSpoolDropsForeignSegmentsOnceItLearnsWhichClusterItServes() throws Exception {
        WalSpool spool = new WalSpool(root.resolve("spool"));
        SyntheticWal.segment(spool.dir().resolve(NAME), NAME, THEIRS, SIZE, false);
        SyntheticWal.segment(
                spool.dir().resolve("000000010000000000000008"), "000000010000000000000008", OURS, SIZE, false);
        assertEquals(OptionalLong.empty(), spool.systemIdentifier());
        assertEquals(1, spool.recordSystemIdentifier(OURS));
        assertEquals(OptionalLong.of(OURS), spool.systemIdentifier());
        assertEquals(
                List.of("000000010000000000000008"),
                spool.segments().stream().map(WalFileName::name).toList());
        assertEquals(0, spool.recordSystemIdentifier(OURS), "nothing to do when it is known already");
    }
}

package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalSpoolTest {
    @TempDir
    Path dir;

    @Test
    void recordsTheLastRequestAndDropsWhatReplayPassed() throws IOException {
        WalSpool spool = new WalSpool(dir);
        for (String n : List.of("000000010000000000000002", "000000010000000000000003", "000000010000000000000004")) {
            Files.writeString(dir.resolve(n), "x");
        }
        Files.writeString(dir.resolve("00000002.history"), "1\t0/3000000\tno recovery target specified\n");
        assertEquals(Optional.empty(), spool.lastRequested());
        spool.recordRequested(WalFileName.of("000000010000000000000003"));
        spool.recordRequested(WalFileName.of("00000002.history")); // only segments move the mark
        assertEquals(Optional.of(WalFileName.of("000000010000000000000003")), spool.lastRequested());
        assertEquals(1, spool.dropOlderThan(spool.lastRequested().orElseThrow()));
        assertEquals(
                List.of("000000010000000000000003", "000000010000000000000004"),
                spool.segments().stream().map(WalFileName::name).toList());
        assertTrue(spool.lookup(WalFileName.of("000000010000000000000004")).isPresent());
        assertTrue(spool.lookup(WalFileName.of("000000010000000000000002")).isEmpty());
    }

    @Test
    void aGarbledRequestMarkIsIgnored() throws IOException {
        WalSpool spool = new WalSpool(dir);
        Files.writeString(dir.resolve(WalSpool.REQUESTED), "../../etc/passwd\n");
        assertEquals(Optional.empty(), spool.lastRequested());
    }

    @Test
    void missingAndInFlightMarksComeAndGo() throws IOException {
        WalSpool spool = new WalSpool(dir);
        WalFileName five = WalFileName.of("000000010000000000000005");
        WalFileName history = WalFileName.of("00000002.history");
        java.time.Instant at = java.time.Instant.ofEpochMilli(1_763_776_000_123L);
        spool.markMissing(five, at);
        spool.markMissing(history, at);
        assertEquals(Optional.of(at), spool.missingSince(five));
        assertEquals("1763776000123\n", Files.readString(dir.resolve(".missing-000000010000000000000005")));
        spool.markInFlight(WalFileName.of("000000010000000000000006"), at);
        assertEquals("1763776000123\n", Files.readString(dir.resolve(".inflight-000000010000000000000006")));
        assertTrue(spool.segments().isEmpty(), "marks are not segments");

        spool.dropOlderThan(WalFileName.of("000000010000000000000006")); // replay has passed five
        assertEquals(Optional.empty(), spool.missingSince(five));
        assertEquals(Optional.of(at), spool.missingSince(history));
        spool.clearMarks();
        assertEquals(Optional.empty(), spool.missingSince(history));
        assertTrue(Files.notExists(dir.resolve(".inflight-000000010000000000000006")));
    }

    @Test
    void aGarbledMissingMarkSaysNothing() throws IOException {
        WalSpool spool = new WalSpool(dir);
        Files.writeString(dir.resolve(".missing-000000010000000000000005"), "soon\n");
        assertEquals(Optional.empty(), spool.missingSince(WalFileName.of("000000010000000000000005")));
    }

    @Test
    void aRestoresSpoolLinksEachSegmentToKeepAndPrunesOnlyThoseHandedOver() throws IOException {
        WalSpool spool = new WalSpool(dir, Landing.QUICK, true);
        List<String> names = List.of(
                "000000010000000000000002",
                "000000010000000000000003",
                "000000010000000000000004",
                "000000010000000000000005");
        for (String n : names) {
            Files.writeString(dir.resolve(n), n);
            spool.linkKept(WalFileName.of(n));
        }
        spool.linkKept(WalFileName.of("00000002.history")); // segments only
        spool.linkKept(WalFileName.of("000000010000000000000009")); // not spooled (handed over): nothing
        assertTrue(Files.isSameFile(dir.resolve(names.get(0)), dir.resolve(".kept-" + names.get(0))));
        assertTrue(Files.notExists(dir.resolve(".kept-00000002.history")));
        assertTrue(Files.notExists(dir.resolve(".kept-000000010000000000000009")));
        assertEquals(4, spool.segments().size(), "kept links are not segments");

        // The launcher hands 2, 3 and 4 over (renames them into pg_wal): their links stay behind.
        for (String n : names.subList(0, 3)) {
            Files.delete(dir.resolve(n));
        }
        assertEquals(2, spool.pruneKept(1), "the newest handed over stays, and 5, still spooled");
        assertTrue(Files.exists(dir.resolve(".kept-000000010000000000000004")));
        assertTrue(Files.exists(dir.resolve(".kept-000000010000000000000005")));
        assertEquals(2, spool.pruneKept(0), "the restore is over: every link goes");
        assertEquals(
                List.of(names.get(3)),
                spool.segments().stream().map(WalFileName::name).toList());
    }

    @Test
    void aStandbysSpoolLinksNothingToKeep() throws IOException {
        WalSpool spool = new WalSpool(dir);
        Files.writeString(dir.resolve("000000010000000000000002"), "x");
        spool.linkKept(WalFileName.of("000000010000000000000002"));
        assertTrue(Files.notExists(dir.resolve(".kept-000000010000000000000002")));
    }
}

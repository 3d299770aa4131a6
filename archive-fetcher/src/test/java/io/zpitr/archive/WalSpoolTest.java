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
}

package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrefetcherTest {
    static final long SEGMENT = 16L << 20;

    @TempDir
    Path dir;

    @Test
    void keepsTheSegmentBeforeTheRequestedOneForTheEndOfRecoveryReread() throws IOException {
        WalSpool spool = new WalSpool(dir);
        for (String n : List.of("000000010000000000000002", "000000010000000000000003", "000000010000000000000004")) {
            Files.writeString(dir.resolve(n), "x");
        }
        // No sources: every prefetch ends at once as "unavailable"; only the dropping is under test.
        Prefetcher prefetcher = new Prefetcher(spool, () -> new WalFetcher(List.of(), new WalVerifier()), 2, 1,
                SEGMENT, Duration.ofSeconds(1), Clock.systemUTC());
        prefetcher.fill(WalFileName.of("000000010000000000000004"));
        assertEquals(List.of("000000010000000000000003", "000000010000000000000004"),
                spool.segments().stream().map(WalFileName::name).toList());
    }

    @Test
    void theVeryFirstSegmentHasNoneBeforeIt() throws IOException {
        WalSpool spool = new WalSpool(dir);
        Files.writeString(dir.resolve("000000010000000000000000"), "x");
        Prefetcher prefetcher = new Prefetcher(spool, () -> new WalFetcher(List.of(), new WalVerifier()), 1, 1,
                SEGMENT, Duration.ofSeconds(1), Clock.systemUTC());
        prefetcher.fill(WalFileName.of("000000010000000000000000"));
        assertEquals(List.of("000000010000000000000000"), spool.segments().stream().map(WalFileName::name).toList());
    }
}

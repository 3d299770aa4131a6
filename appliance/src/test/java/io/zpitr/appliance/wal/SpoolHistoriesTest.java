package io.zpitr.appliance.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSpool;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Before a restore promotes, the history files PostgreSQL will ask for are spooled or marked missing. */
class SpoolHistoriesTest {
    @TempDir
    Path dir;

    @Test
    void spoolsTheHistoryFilesThereAreAndMarksTheFirstMissingOne() throws Exception {
        Path archive = Files.createDirectories(dir.resolve("archive/20261122"));
        String history2 = "1\t0/3000000\tno recovery target specified\n";
        Files.writeString(archive.resolve("00000002.history"), history2);
        Path spool = Files.createDirectories(dir.resolve("state/spool"));
        Path config = dir.resolve("zpitr.yaml");
        Files.writeString(config, "state_dir: " + dir.resolve("state") + "\narchive:\n  prefetch: 2\n  sources:\n"
                + "    - {name: nfs, type: local, path: " + dir.resolve("archive") + "}\n");
        Instant before = Instant.now().minusMillis(1);

        SpoolHistories.prime(ConfigLoader.load(config), spool, 1, Optional.empty(), new ProcessRunner());

        WalSpool walSpool = new WalSpool(spool);
        // Timeline 1 has no history file; PostgreSQL asks for it all the same (the new timeline's parent).
        assertTrue(walSpool.missingSince(WalFileName.of("00000001.history")).orElseThrow().isAfter(before));
        assertEquals(history2, Files.readString(spool.resolve("00000002.history")));
        assertTrue(walSpool.missingSince(WalFileName.of("00000003.history")).orElseThrow().isAfter(before));
        assertFalse(Files.exists(spool.resolve(WalSpool.MISSING + "00000004.history")), "asks stop at the first missing");
    }
}

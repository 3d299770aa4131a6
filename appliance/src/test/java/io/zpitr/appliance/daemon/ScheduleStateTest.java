package io.zpitr.appliance.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.daemon.ScheduleState.JobRun;
import io.zpitr.appliance.daemon.ScheduleState.Outcome;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.error.ZpitrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScheduleStateTest {
    @TempDir
    Path dir;

    @Test
    void aMissingFileIsAFirstStart() {
        assertTrue(ScheduleState.read(dir.resolve("state")).jobs().isEmpty());
    }

    @Test
    void runsRoundTripAndTheFileIsReplacedWhole() throws Exception {
        Path stateDir = dir.resolve("state");
        ScheduleState state = ScheduleState.read(stateDir);
        Instant t = Instant.parse("2026-11-20T20:01:00.104Z");
        JobRun failed = new JobRun(
                t,
                Outcome.FAILED,
                t.plusSeconds(2),
                "retry 1 of 3",
                1,
                null,
                "dataset 'x' does not exist",
                t.plusSeconds(302));
        state.put(JobKind.SNAPSHOT, failed);
        state.put(JobKind.PRUNE, JobRun.baseline(t));
        ScheduleState back = ScheduleState.read(stateDir);
        assertEquals(failed, back.job(JobKind.SNAPSHOT).orElseThrow());
        assertEquals(JobRun.baseline(t), back.job(JobKind.PRUNE).orElseThrow());
        String text = Files.readString(ScheduleState.fileIn(stateDir));
        assertTrue(text.contains("\"outcome\" : \"failed\""), text);
        assertTrue(text.contains("\"next_retry\" : \"2026-11-20T20:06:02.104Z\""), text);
        try (Stream<Path> files = Files.list(stateDir)) {
            assertEquals(
                    List.of(ScheduleState.FILE_NAME),
                    files.map(p -> p.getFileName().toString()).toList(),
                    "no temporary file is left beside it");
        }
    }

    @Test
    void aDamagedFileIsRefusedWithItsName() throws Exception {
        Files.writeString(ScheduleState.fileIn(dir), "{\"format\": 1, \"jobs\": {\"snapshot\": {\"outcome\": \"ok\"");
        ZpitrException e = assertThrows(ZpitrException.class, () -> ScheduleState.read(dir));
        assertEquals(ZpitrError.STATE_DAMAGED, e.error());
        assertTrue(e.getMessage().contains(ScheduleState.fileIn(dir).toString()), e.getMessage());
        Files.writeString(
                ScheduleState.fileIn(dir),
                "{\"format\": 1, \"jobs\": {\"snapshot\": {\"outcome\": \"great\","
                        + " \"last_run\": \"2026-11-20T20:01:00Z\"}}}");
        assertThrows(ZpitrException.class, () -> ScheduleState.read(dir));
    }
}

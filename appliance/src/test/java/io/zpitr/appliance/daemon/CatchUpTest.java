package io.zpitr.appliance.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.daemon.ScheduleState.JobRun;
import io.zpitr.appliance.daemon.ScheduleState.Outcome;
import io.zpitr.appliance.schedule.Schedule;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The start-up catch-up decision, over synthetic histories: no daemon, no clock of the machine's. */
class CatchUpTest {
    private static final ZoneId SG = ZoneId.of("Asia/Singapore");
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    private static Instant at(String local, ZoneId zone) {
        return ZonedDateTime.of(LocalDateTime.parse(local), zone).toInstant();
    }

    private static Map<JobKind, Schedule> daily(ZoneId zone) {
        Map<JobKind, Schedule> s = new LinkedHashMap<>();
        s.put(JobKind.SNAPSHOT, Schedule.parse("1 4 * * *", zone));
        s.put(JobKind.PRUNE, Schedule.parse("30 4 * * *", zone));
        return s;
    }

    private static JobRun ok(Instant at) {
        return new JobRun(at, Outcome.OK, at.plusSeconds(2), "schedule", 0, "x", null, null);
    }

    private static CatchUp.Plan decide(Map<JobKind, Schedule> schedules, Map<JobKind, JobRun> last, Instant now) {
        return CatchUp.decide(schedules, k -> Optional.ofNullable(last.get(k)), false, now);
    }

    @Test
    void aFirstStartIsABaselineAndRunsNothing() {
        CatchUp.Plan plan = decide(daily(SG), Map.of(), at("2026-11-20T12:00:00", SG));
        assertTrue(plan.runNow().isEmpty());
        assertEquals(List.of(JobKind.SNAPSHOT, JobKind.PRUNE), plan.baseline());
    }

    @Test
    void daysOfMissedRunsAreMadeUpOnceSnapshotFirst() {
        Map<JobKind, JobRun> last = new EnumMap<>(JobKind.class);
        last.put(JobKind.PRUNE, ok(at("2026-11-10T04:30:00", SG)));
        last.put(JobKind.SNAPSHOT, ok(at("2026-11-10T04:01:00", SG)));
        CatchUp.Plan plan = decide(daily(SG), last, at("2026-11-20T12:00:00", SG));
        assertEquals(
                List.of(JobKind.SNAPSHOT, JobKind.PRUNE),
                List.copyOf(plan.runNow().keySet()));
        assertTrue(
                plan.runNow()
                        .get(JobKind.SNAPSHOT)
                        .contains(at("2026-11-11T04:01:00", SG).toString()),
                "names the first missed run: " + plan.runNow());
        assertTrue(plan.baseline().isEmpty());
    }

    @Test
    void nothingIsDueBeforeTheScheduledTimeOrRightAtIt() {
        Map<JobKind, JobRun> last = Map.of(
                JobKind.SNAPSHOT, ok(at("2026-11-20T04:01:00", SG)), JobKind.PRUNE, ok(at("2026-11-20T04:30:00", SG)));
        assertTrue(
                decide(daily(SG), last, at("2026-11-21T04:00:59", SG)).runNow().isEmpty());
        assertEquals(
                List.of(JobKind.SNAPSHOT),
                List.copyOf(decide(daily(SG), last, at("2026-11-21T04:01:00", SG))
                        .runNow()
                        .keySet()),
                "due at 04:01:00 exactly");
    }

    @Test
    void aFailedOrInterruptedLastRunRunsOnceAtStartUp() {
        Instant t = at("2026-11-20T04:01:00", SG);
        Map<JobKind, JobRun> last = Map.of(
                JobKind.SNAPSHOT,
                        new JobRun(t, Outcome.FAILED, t.plusSeconds(1), "schedule", 0, null, "boom", t.plusSeconds(60)),
                JobKind.PRUNE,
                        new JobRun(t.plusSeconds(29 * 60), Outcome.RUNNING, null, "schedule", 0, null, null, null));
        CatchUp.Plan plan = decide(daily(SG), last, at("2026-11-20T05:00:00", SG));
        assertTrue(
                plan.runNow().get(JobKind.SNAPSHOT).contains("failed"),
                plan.runNow().toString());
        assertTrue(
                plan.runNow().get(JobKind.PRUNE).contains("never finished"),
                plan.runNow().toString());
    }

    @Test
    void aBaselineWithoutRunsIsMadeUpOnlyWhenATimeWentBy() {
        Instant t = at("2026-11-20T10:00:00", SG);
        Map<JobKind, JobRun> last = Map.of(JobKind.SNAPSHOT, JobRun.baseline(t), JobKind.PRUNE, JobRun.baseline(t));
        assertTrue(
                decide(daily(SG), last, at("2026-11-21T04:00:00", SG)).runNow().isEmpty());
        assertEquals(
                2,
                decide(daily(SG), last, at("2026-11-21T05:00:00", SG)).runNow().size());
    }

    @Test
    void theDstGapAndDoubledHourAreJudgedInTheConfiguredZone() {
        // 02:30 does not exist in Berlin on 2026-03-29 (clocks jump from 02:00 to 03:00).
        Map<JobKind, Schedule> s = Map.of(JobKind.SNAPSHOT, Schedule.parse("30 2 * * *", BERLIN));
        Map<JobKind, JobRun> last = Map.of(JobKind.SNAPSHOT, ok(at("2026-03-28T02:30:00", BERLIN)));
        CatchUp.Plan plan = decide(s, last, at("2026-03-30T03:00:00", BERLIN));
        assertEquals(1, plan.runNow().size(), "missed at least once, made up once");
    }

    @Test
    void aDamagedStateRunsEveryJobOnce() {
        CatchUp.Plan plan = CatchUp.decide(daily(SG), k -> Optional.empty(), true, at("2026-11-20T12:00:00", SG));
        assertEquals(
                List.of(JobKind.SNAPSHOT, JobKind.PRUNE),
                List.copyOf(plan.runNow().keySet()));
        assertTrue(plan.baseline().isEmpty());
    }
}

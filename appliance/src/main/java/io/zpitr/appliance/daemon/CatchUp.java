// Decides at start-up which jobs to run at once: a run missed while the daemon was down runs once.
package io.zpitr.appliance.daemon;

import io.zpitr.appliance.schedule.Schedule;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The start-up decision, a pure function of the schedules, the recorded last runs and the time:
 *
 * <ul>
 *   <li>no record of the job (first start): record now as its baseline, run nothing;</li>
 *   <li>a scheduled time fell after its last run and at or before now: run it once now, however
 *       many times were missed;</li>
 *   <li>its last run failed, or was still running when the daemon died: run it once now (its
 *       pending retries did not survive the stop);</li>
 *   <li>the state file was damaged: run every job once now (a spare snapshot costs little, a
 *       missing one may cost a restore point).</li>
 * </ul>
 *
 * Jobs run in the order the schedules are given (snapshot before prune).
 */
public final class CatchUp {
    private CatchUp() {}

    /**
     * @param runNow   jobs to run once at start-up, with why, in order
     * @param baseline jobs without a record, whose baseline is now
     */
    public record Plan(Map<JobKind, String> runNow, List<JobKind> baseline) {}

    /**
     * @param schedules   the scheduled jobs, in run order
     * @param lastRun     each job's recorded last run
     * @param stateLost   whether the state file was damaged (nothing is known)
     */
    public static Plan decide(
            Map<JobKind, Schedule> schedules,
            Function<JobKind, Optional<ScheduleState.JobRun>> lastRun,
            boolean stateLost,
            Instant now) {
        Map<JobKind, String> runNow = new LinkedHashMap<>();
        List<JobKind> baseline = new ArrayList<>();
        schedules.forEach((kind, schedule) -> {
            if (stateLost) {
                runNow.put(kind, "the schedule state was damaged, so a missed run cannot be ruled out");
                return;
            }
            Optional<ScheduleState.JobRun> last = lastRun.apply(kind);
            if (last.isEmpty()) {
                baseline.add(kind);
                return;
            }
            ScheduleState.JobRun run = last.get();
            if (schedule.missedSince(run.lastRun(), now)) {
                runNow.put(
                        kind,
                        "missed the run due at "
                                + schedule.nextAfter(run.lastRun()).orElseThrow() + " (last run " + run.lastRun()
                                + ")");
            } else if (run.outcome() == ScheduleState.Outcome.FAILED) {
                runNow.put(kind, "its last run, at " + run.lastRun() + ", failed");
            } else if (run.outcome() == ScheduleState.Outcome.RUNNING) {
                runNow.put(
                        kind,
                        "its last run, started " + run.lastRun() + ", never finished (the daemon stopped during it)");
            }
        });
        return new Plan(runNow, baseline);
    }
}

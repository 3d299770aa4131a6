// A restore drill: restores a snapshot set on a clone with the restore machinery, checks it, records the evidence.
package io.zpitr.appliance.drill;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.restore.MajorCheck;
import io.zpitr.appliance.restore.NotRestorableException;
import io.zpitr.appliance.restore.RecoveryTarget;
import io.zpitr.appliance.restore.RestorePlan;
import io.zpitr.appliance.restore.RestoreRequest;
import io.zpitr.appliance.restore.RestoreService;
import io.zpitr.appliance.snapshot.SnapshotSet;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A drill is a restore ({@link RestoreService}: plan, clone, recovery with {@code archive_mode = off},
 * promotion), so it never touches the live standby and never archives anything. The promoted
 * instance is then checked: where replay stopped ({@link QueryChecks#target}), every page
 * pg_amcheck can check ({@link IntegrityCheck}), the configured {@code drill.checks}. Then the clone
 * is dropped unless kept, and the evidence recorded ({@link DrillEvidence}). Configured checks are
 * validated before anything is cloned; a drill whose checks could not run (the instance stopped
 * answering) still drops its clone and records the failure.
 */
public final class DrillService {
    private static final DateTimeFormatter NAME_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private final Appliance appliance;
    private final PrintWriter out;
    private final boolean terminal;
    private final Path launcher;

    /** @param launcher the {@code bin/zpitr} the restored instance's restore_command runs */
    public DrillService(Appliance appliance, PrintWriter out, boolean terminal, Path launcher) {
        this.appliance = appliance;
        this.out = out;
        this.terminal = terminal;
        this.launcher = launcher;
    }

    /**
     * Runs one drill and records it.
     *
     * @param argv the command as typed (or the daemon's job), for the audit line
     * @throws NotRestorableException when the set cannot be restored to the target (recorded first)
     * @throws io.zpitr.appliance.error.ZpitrException for bad input (the set's major, a --ttl): nothing was changed or recorded
     */
    public DrillResult drill(DrillRequest request, List<String> argv) throws IOException, InterruptedException {
        List<ConfiguredCheck> configured = appliance.settings().drillChecks();
        java.time.Instant expires = expiry(request);
        long t0 = System.nanoTime();
        List<SnapshotSet> sets = appliance.catalog().list();
        Optional<String> forced = chosenSet(request, sets);
        String name = "drill-" + NAME_TIME.format(appliance.clock().instant());
        DrillEvidence evidence = new DrillEvidence(appliance, argv);
        Map<String, Object> known = new LinkedHashMap<>();
        known.put("name", name);
        known.put("snapshot", forced.orElse(null));
        known.put("target", request.target().describe());
        try (RestoreService restores = new RestoreService(appliance, out, terminal, launcher)) {
            RestorePlan plan;
            try {
                plan = restores.plan(request.target(), forced, false);
            } catch (NotRestorableException e) {
                evidence.failed(known, e, DrillResult.Outcome.not_restorable, find(sets, forced));
                throw e;
            }
            MajorCheck.requireSameMajor(appliance.settings(), appliance.runner(), plan.base());
            SnapshotSet set = plan.base();
            known.put("snapshot", set.id());
            out.println("drill:    " + name + " of " + set.id() + " to "
                    + request.target().describe());
            out.flush();
            RestoreService.Result restored;
            try {
                restored = restores.restore(
                        plan, new RestoreRequest(name, 0, RestoreRequest.Action.promote, false, false, expires));
            } catch (NotRestorableException e) {
                evidence.failed(known, e, DrillResult.Outcome.not_restorable, Optional.of(set));
                throw e;
            } catch (IOException | InterruptedException | RuntimeException e) {
                evidence.failed(known, e, DrillResult.Outcome.failed, Optional.of(set));
                throw e;
            }
            Map<String, Long> timings = new LinkedHashMap<>();
            timings.put("queryable", ms(t0));
            List<CheckResult> checks = new ArrayList<>();
            String digest;
            try {
                QueryChecks queries = new QueryChecks(appliance.runner(), restored.connection());
                checks.add(queries.target(set, request.target(), restored.stoppedAt()));
                IntegrityCheck.Outcome integrity =
                        new IntegrityCheck(appliance.runner(), restored.connection()).run(queries.major());
                checks.addAll(integrity.results());
                digest = integrity.digest();
                for (ConfiguredCheck c : configured) {
                    checks.add(queries.run(c));
                }
                timings.put("checked", ms(t0));
            } catch (RuntimeException e) {
                dropUnlessKept(restores, name, request);
                evidence.failed(known, e, DrillResult.Outcome.failed, Optional.of(set));
                throw e;
            }
            dropUnlessKept(restores, name, request);
            timings.put("done", ms(t0));
            boolean passed = checks.stream().noneMatch(CheckResult::failed);
            DrillResult result = new DrillResult(
                    name,
                    set.id(),
                    request.target().describe(),
                    restored.stoppedAt(),
                    passed ? DrillResult.Outcome.passed : DrillResult.Outcome.failed,
                    List.copyOf(checks),
                    digest,
                    timings,
                    request.keep(),
                    request.keep() ? restored.psql() : null,
                    appliance.clock().instant());
            evidence.record(result, Optional.of(set));
            return result;
        }
    }

    /** A kept drill's expiry: {@code --ttl}, else {@code restore.default_ttl}, counted from now; else none. */
    private java.time.Instant expiry(DrillRequest request) {
        if (!request.keep()) {
            return null;
        }
        return request.ttl()
                .or(() -> RestoreService.defaultTtl(appliance.settings()))
                .map(d -> appliance.clock().instant().plus(d))
                .orElse(null);
    }

    private void dropUnlessKept(RestoreService restores, String name, DrillRequest request) throws IOException {
        if (request.keep()) {
            return;
        }
        restores.drop(name);
    }

    /** The set the request names, or empty to let the planner choose (a time target without a pick). */
    private static Optional<String> chosenSet(DrillRequest request, List<SnapshotSet> sets) {
        return switch (request.pick()) {
            case ID -> request.snapshot();
            case OLDEST -> Optional.of(nonEmpty(sets).get(0).id());
            case NEWEST -> Optional.of(nonEmpty(sets).get(sets.size() - 1).id());
            default ->
                request.target() instanceof RecoveryTarget.Time
                        ? Optional.empty()
                        : Optional.of(nonEmpty(sets).get(sets.size() - 1).id());
        };
    }

    private static List<SnapshotSet> nonEmpty(List<SnapshotSet> sets) {
        if (sets.isEmpty()) {
            throw new NotRestorableException("there is no snapshot set to drill\nHINT: take one with zpitr snapshot");
        }
        return sets;
    }

    private static Optional<SnapshotSet> find(List<SnapshotSet> sets, Optional<String> id) {
        return id.flatMap(i -> sets.stream().filter(s -> s.id().equals(i)).findFirst());
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }
}

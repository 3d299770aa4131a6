// `zpitr restore`: a queryable instance at any point in time, cloned from a snapshot beside the live standby.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.restore.MajorCheck;
import io.zpitr.appliance.restore.RecoveryTarget;
import io.zpitr.appliance.restore.RestorePlan;
import io.zpitr.appliance.restore.RestoreRequest;
import io.zpitr.appliance.restore.RestoreService;
import io.zpitr.appliance.time.TimeArgument;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Plans, clones, configures recovery, starts PostgreSQL on the clone and waits for the target. */
@Command(
        name = "restore",
        mixinStandardHelpOptions = true,
        description = {
            "Restores to a point in time on clones of a snapshot set, beside the live standby.",
            "clones are O(1); PostgreSQL then replays archived WAL (through zpitr wal-fetch) to the target.",
            "Exit 3 when the target is not restorable (no snapshot before it, WAL missing, replay ended early);",
            "exit 2 when postgres.bin_dir holds another PostgreSQL major than the snapshot set's."
        })
final class RestoreCommand implements Callable<Integer> {
    static final int NOT_RESTORABLE = ZpitrError.NOT_RESTORABLE.exitStatus();

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(
                names = "--to-time",
                paramLabel = "T",
                description = "ISO-8601 with offset, psql's form, or local time in the configured timezone.")
        String time;

        @Option(names = "--to-lsn", paramLabel = "LSN", description = "A WAL location, e.g. 0/3000028.")
        String lsn;

        @Option(names = "--to-xid", paramLabel = "XID", description = "Stop at the commit of this transaction.")
        Long xid;

        @Option(
                names = "--to-name",
                paramLabel = "NAME",
                description = "A restore point made with pg_create_restore_point().")
        String name;

        @Option(
                names = "--latest",
                description = "Replay all archived WAL; PostgreSQL promotes where the archive ends.")
        boolean latest;

        @Option(
                names = "--immediate",
                description = "Replay only until the snapshot is consistent (the quickest copy of a set).")
        boolean immediate;
    }

    @Option(
            names = "--snapshot",
            paramLabel = "ID",
            description = "Start from this snapshot set instead of the newest that can reach the target.")
    String snapshot;

    @Option(names = "--name", paramLabel = "N", description = "The restore's name (default: r<UTC yyyyMMdd-HHmmss>).")
    String name;

    @Option(
            names = "--port",
            paramLabel = "P",
            description = "Port for the restored instance (default: first free from restore.port).")
    int port;

    @Option(names = "--action", description = "At the target: promote (default), pause or shutdown.")
    RestoreRequest.Action action = RestoreRequest.Action.promote;

    @Option(names = "--exclusive", description = "Stop just before the target instead of just after it.")
    boolean exclusive;

    @Option(names = "--keep-failed", description = "Keep the clones of a failed restore for inspection.")
    boolean keepFailed;

    @Option(
            names = "--ttl",
            paramLabel = "D",
            description =
                    "The daemon drops the restore after this long (e.g. 4h; default restore.default_ttl, empty: never).")
    String ttl;

    @Option(names = "--dry-run", description = "Print the plan; change nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        long calledAt = sinceLaunched();
        Appliance appliance = main.appliance();
        RecoveryTarget recoveryTarget = parseTarget(appliance);
        String restoreName = name != null
                ? name
                : "r"
                        + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                                .withZone(ZoneOffset.UTC)
                                .format(appliance.clock().instant());
        java.time.Instant expires = (ttl != null
                        ? Optional.of(DrillCommand.positive(ttl))
                        : RestoreService.defaultTtl(appliance.settings()))
                .map(d -> appliance.clock().instant().plus(d))
                .orElse(null);
        RestoreRequest request = new RestoreRequest(restoreName, port, action, exclusive, keepFailed, expires);
        if (recoveryTarget instanceof RecoveryTarget.Latest && action == RestoreRequest.Action.pause) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--latest cannot pause: without a target PostgreSQL"
                            + " ends recovery where the archive ends\nHINT: --action promote (the default) or shutdown, or give a target");
        }
        if (snapshot != null) {
            io.zpitr.zfs.SnapshotName.checkShortName(snapshot);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (RestoreService service = new RestoreService(appliance, out, System.console() != null, launcher())) {
            return restore(appliance, service, recoveryTarget, restoreName, request, out, calledAt);
        }
    }

    private Integer restore(
            Appliance appliance,
            RestoreService service,
            RecoveryTarget recoveryTarget,
            String restoreName,
            RestoreRequest request,
            PrintWriter out,
            long calledAt)
            throws Exception {
        long planStart = System.nanoTime();
        RestorePlan plan = service.plan(recoveryTarget, Optional.ofNullable(snapshot), dryRun);
        long planMillis = (System.nanoTime() - planStart) / 1_000_000;
        // Before the plan is printed: a dry run must fail as the restore would, and nothing is cloned yet.
        MajorCheck.requireSameMajor(appliance.settings(), appliance.runner(), plan.base());
        out.println("target:   " + recoveryTarget.describe());
        out.println("snapshot: " + plan.base().id() + " (consistent from "
                + (plan.base().replayTime() != null
                        ? plan.base().replayTime()
                        : plan.base().created())
                + ", LSN " + plan.base().replayLsn() + ", timeline "
                + plan.base().timeline() + ")");
        out.println("WAL:      " + plan.describeWal());
        if (dryRun) {
            out.println("dry run: nothing was changed.");
            return Main.OK;
        }
        Map<String, Object> known = new LinkedHashMap<>();
        known.put("name", restoreName);
        known.put("target", recoveryTarget.describe());
        known.put("snapshot", plan.base().id());
        RestoreService.Result[] result = new RestoreService.Result[1];
        AuditTrail.run(appliance, spec, AuditEvent.RESTORE, known, () -> {
            result[0] = service.restore(plan, request);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("port", result[0].instance().port());
            d.put("state", result[0].instance().state());
            d.put("stopped_at", result[0].stoppedAt());
            return d;
        });
        out.println("reached:  " + result[0].stoppedAt());
        out.println("state:    " + result[0].instance().state() + " ("
                + result[0].instance().dataset() + ", port "
                + result[0].instance().port() + ")");
        if (!result[0].instance().state().equals("shut down")) {
            out.println("connect:  " + result[0].psql());
        }
        out.println("drop it:  zpitr restore-drop " + restoreName
                + (request.expiresAt() == null ? "" : " (the daemon drops it after " + request.expiresAt() + ")"));
        long endedAt = sinceLaunched();
        StringBuilder took =
                new StringBuilder(String.format(java.util.Locale.ROOT, "plan %.2f s; restore: ", planMillis / 1000.0));
        result[0]
                .timings()
                .forEach((step, ms) -> took.append(took.length() == 0 ? "" : ", ")
                        .append(step)
                        .append(' ')
                        .append(String.format(java.util.Locale.ROOT, "%.2f s", ms / 1000.0)));
        out.println("timings:  " + took
                + (calledAt < 0
                        ? ""
                        : String.format(
                                java.util.Locale.ROOT,
                                " (process: command called at %.2f s, ended at %.2f s)",
                                calledAt / 1000.0,
                                endedAt / 1000.0)));
        return Main.OK;
    }

    /**
     * Milliseconds since the launcher started ({@code ZPITR_LAUNCHED_US}, epoch microseconds, which
     * bin/zpitr sets), or -1 when it is not known (the jar run directly).
     */
    static long sinceLaunched() {
        String launched = System.getenv("ZPITR_LAUNCHED_US");
        if (launched == null || !launched.matches("[0-9]{13,17}")) {
            return -1;
        }
        return System.currentTimeMillis() - Long.parseLong(launched) / 1000;
    }

    private RecoveryTarget parseTarget(Appliance appliance) {
        if (target.time != null) {
            return new RecoveryTarget.Time(
                    TimeArgument.parse(target.time, appliance.settings().timezone()));
        }
        if (target.lsn != null) {
            return new RecoveryTarget.AtLsn(Lsn.parse(target.lsn));
        }
        if (target.xid != null) {
            if (target.xid < 3) {
                throw ZpitrError.INVALID_ARGUMENT.exception(
                        "transaction id " + target.xid + " is not a normal transaction id");
            }
            return new RecoveryTarget.Xid(target.xid);
        }
        if (target.name != null) {
            return new RecoveryTarget.Name(target.name);
        }
        if (target.immediate) {
            return new RecoveryTarget.Immediate();
        }
        return new RecoveryTarget.Latest();
    }

    /** The bin/zpitr a restored instance's restore_command runs (restore.LauncherPath). */
    static Path launcher() {
        return io.zpitr.appliance.restore.LauncherPath.find();
    }
}

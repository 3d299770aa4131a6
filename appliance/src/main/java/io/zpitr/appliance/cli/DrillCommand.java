// `zpitr drill`: proves a snapshot set restorable by restoring it on a clone and checking what comes back.
package io.zpitr.appliance.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.config.DurationText;
import io.zpitr.appliance.drill.CheckResult;
import io.zpitr.appliance.drill.DrillRequest;
import io.zpitr.appliance.drill.DrillResult;
import io.zpitr.appliance.drill.DrillService;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.restore.RecoveryTarget;
import io.zpitr.appliance.time.TimeArgument;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Restores on a clone, runs the checks, records the evidence, drops the clone; docs/drills.md. */
@Command(
        name = "drill",
        mixinStandardHelpOptions = true,
        description = {
            "Restores a snapshot set on a clone beside the live standby and checks it: the target reached,",
            "pg_amcheck over every database, the configured drill.checks. Records the evidence (audit event drill,",
            "zpitr:verified_at and zpitr:verified_outcome on the set) and drops the clone unless --keep.",
            "Exit 0 every check passed, 1 a check failed (the finding is printed), 3 the set is not restorable."
        })
final class DrillCommand implements Callable<Integer> {
    enum Format {
        table,
        json
    }

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @ArgGroup(exclusive = true)
    Pick pick;

    static final class Pick {
        @Option(names = "--snapshot", paramLabel = "ID", description = "Drill this snapshot set.")
        String snapshot;

        @Option(names = "--oldest", description = "Drill the oldest set.")
        boolean oldest;

        @Option(names = "--newest", description = "Drill the newest set (the default, except with --to-time).")
        boolean newest;
    }

    @ArgGroup(exclusive = true)
    Target target;

    static final class Target {
        @Option(
                names = "--to-time",
                paramLabel = "T",
                description = "Restore to this time (the newest set before it, unless a set is named).")
        String time;

        @Option(names = "--latest", description = "Replay all archived WAL from the set.")
        boolean latest;

        @Option(names = "--immediate", description = "Replay only until the set is consistent (the default).")
        boolean immediate;
    }

    @Option(
            names = "--keep",
            description = "Keep the clone and its running instance (zpitr restore-drop NAME drops it).")
    boolean keep;

    @Option(
            names = "--ttl",
            paramLabel = "D",
            description = "With --keep: the daemon drops the clone after this long (e.g. 4h).")
    String ttl;

    @Option(names = "--format", description = "table (default) or json.")
    Format format = Format.table;

    @Override
    public Integer call() throws Exception {
        Appliance appliance = main.appliance();
        DrillRequest request = request(appliance);
        PrintWriter out = spec.commandLine().getOut();
        // In JSON mode stdout carries only the document; the restore's progress goes to stderr.
        PrintWriter progress = format == Format.json ? spec.commandLine().getErr() : out;
        List<String> argv = spec.root().commandLine().getParseResult().originalArgs();
        DrillResult r = new DrillService(appliance, progress, System.console() != null, RestoreCommand.launcher())
                .drill(request, argv);
        if (format == Format.json) {
            out.println(new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(r.fields()));
        } else {
            table(out, r);
        }
        out.flush();
        return r.outcome() == DrillResult.Outcome.passed ? Main.OK : Main.FAILED;
    }

    private DrillRequest request(Appliance appliance) {
        DrillRequest.Pick p = DrillRequest.Pick.DEFAULT;
        Optional<String> id = Optional.empty();
        if (pick != null && pick.snapshot != null) {
            io.zpitr.zfs.SnapshotName.checkShortName(pick.snapshot);
            p = DrillRequest.Pick.ID;
            id = Optional.of(pick.snapshot);
        } else if (pick != null && pick.oldest) {
            p = DrillRequest.Pick.OLDEST;
        } else if (pick != null && pick.newest) {
            p = DrillRequest.Pick.NEWEST;
        }
        RecoveryTarget t = new RecoveryTarget.Immediate();
        if (target != null && target.time != null) {
            t = new RecoveryTarget.Time(
                    TimeArgument.parse(target.time, appliance.settings().timezone()));
        } else if (target != null && target.latest) {
            t = new RecoveryTarget.Latest();
        }
        Optional<Duration> life = ttl == null ? Optional.empty() : Optional.of(positive(ttl));
        return new DrillRequest(p, id, t, keep, life);
    }

    /** A {@code --ttl}: a duration of more than 0, or INVALID_ARGUMENT naming it. */
    static Duration positive(String text) {
        Duration d;
        try {
            d = DurationText.parse(text);
        } catch (io.zpitr.appliance.config.ConfigException e) {
            throw ZpitrError.INVALID_ARGUMENT.exception("--ttl " + text + ": " + e.getMessage(), e);
        }
        if (d.isZero() || d.isNegative()) {
            throw ZpitrError.INVALID_ARGUMENT.exception("--ttl " + text + " must be more than 0\nHINT: e.g. --ttl 4h");
        }
        return d;
    }

    private static void table(PrintWriter out, DrillResult r) {
        out.println("reached:  " + r.reached());
        String row = "%-16s %-13s %8s  %s%n";
        out.printf(row, "CHECK", "RESULT", "TOOK", "DETAIL");
        for (CheckResult c : r.checks()) {
            List<String> lines = c.detail().lines().toList();
            out.printf(
                    row,
                    c.name(),
                    c.failed() ? "FAILED" : c.status().name().replace('_', ' '),
                    String.format(Locale.ROOT, "%.2f s", c.millis() / 1000.0),
                    lines.isEmpty() ? "" : lines.get(0));
            lines.stream().skip(1).forEach(l -> out.printf(row, "", "", "", l));
        }
        List<String> failed = r.checks().stream()
                .filter(CheckResult::failed)
                .map(CheckResult::name)
                .toList();
        out.println("outcome:  "
                + (failed.isEmpty()
                        ? "passed: " + r.snapshot() + " is restorable and checked"
                        : "FAILED: " + String.join(", ", failed) + " (" + r.snapshot() + ")"));
        out.println("evidence: audit event drill; zpitr:verified_at=" + r.at() + ", zpitr:verified_outcome="
                + r.outcome() + " on " + r.snapshot() + "; pg_amcheck output " + r.amcheckDigest());
        StringBuilder took = new StringBuilder();
        r.timings()
                .forEach((step, ms) -> took.append(took.length() == 0 ? "" : ", ")
                        .append(step)
                        .append(' ')
                        .append(String.format(Locale.ROOT, "%.2f s", ms / 1000.0)));
        out.println("timings:  " + took);
        out.println(
                r.kept()
                        ? "kept:     " + r.name() + "; connect: " + r.connect() + "; drop it: zpitr restore-drop "
                                + r.name()
                        : "dropped:  the clone " + r.name());
    }
}

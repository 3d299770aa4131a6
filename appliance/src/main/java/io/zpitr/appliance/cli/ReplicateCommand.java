// `zpitr replicate [--target NAME] [--dry-run] [--force-rollback]`: sends the sets each target lacks.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.replication.ReplicationRun;
import io.zpitr.appliance.replication.ReplicationService;
import io.zpitr.appliance.replication.ReplicationTarget;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** One audit line ({@code replicate}) per target; a target that fails does not stop the others. */
@Command(
        name = "replicate",
        mixinStandardHelpOptions = true,
        description = {
            "Sends the snapshot sets a replication target lacks, oldest first: a full stream for the first,",
            "then incremental from the newest set both sides hold, with their zpitr: properties.",
            "Keeps the hold zpitr-repl-<target> on the source's newest set complete on each target (prune keeps it).",
            "A target holding snapshots the source does not have after the newest common set is refused."
        })
final class ReplicateCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--target",
            paramLabel = "NAME",
            description = "Only this target (default: every configured target).")
    String target;

    @Option(names = "--dry-run", description = "Show what would be sent, destroyed or rolled back; change nothing.")
    boolean dryRun;

    @Option(
            names = "--force-rollback",
            description =
                    "Roll a diverged target back to the newest common set (destroying its later snapshots) instead of refusing.")
    boolean forceRollback;

    @Override
    public Integer call() throws Exception {
        Appliance appliance = main.appliance();
        List<ReplicationTarget> targets = appliance.settings().replication().select(target);
        PrintWriter out = spec.commandLine().getOut();
        List<String> argv = spec.root().commandLine().getParseResult().originalArgs();
        ReplicationService service = ReplicationService.of(appliance);
        List<RuntimeException> failures = new ArrayList<>();
        for (ReplicationTarget t : targets) {
            try {
                ReplicationRun.audited(appliance, service, t, dryRun, forceRollback, argv, Map.of(), line -> {
                            out.println(line);
                            out.flush();
                        })
                        .forEach(out::println);
            } catch (RuntimeException e) {
                failures.add(e);
                Main.report(e, spec.commandLine().getErr(), System.getenv());
            }
        }
        out.flush();
        if (failures.isEmpty()) {
            return Main.OK;
        }
        // A configuration problem (exit 2) outranks a failed run (exit 1): it needs the operator first.
        boolean config = failures.stream().anyMatch(e -> Main.exitCode(e) == Main.USAGE);
        spec.commandLine()
                .getErr()
                .println("zpitr: replication failed for " + failures.size() + " of " + targets.size() + " target(s)");
        return config ? Main.USAGE : Main.FAILED;
    }
}

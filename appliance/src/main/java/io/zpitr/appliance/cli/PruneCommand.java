// `zpitr prune [--dry-run]`: applies retention, saying why each set is kept or destroyed.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.audit.Outcome;
import io.zpitr.appliance.snapshot.PruneService;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Destroys the snapshot sets retention no longer keeps; each destroyed set is one audit line. */
@Command(
        name = "prune",
        mixinStandardHelpOptions = true,
        description = {
            "Applies the retention policy to the snapshot sets.",
            "Never destroys a held set, a set with restore clones, or the newest set. Prints each set destroyed (or, with --dry-run, that would be) and why each kept set is kept."
        })
final class PruneCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dry-run", description = "Show what would be destroyed; change nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        Appliance appliance = main.appliance();
        PruneService pruning = appliance.pruning();
        PrintWriter out = spec.commandLine().getOut();
        List<String> argv = spec.root().commandLine().getParseResult().originalArgs();
        List<PruneService.Outcome> outcomes;
        try {
            outcomes = dryRun
                    ? pruning.plan()
                    : pruning.prune(o -> {
                        Map<String, Object> d = new LinkedHashMap<>();
                        d.put("id", o.set().id());
                        d.put("created", o.set().created().toString());
                        d.put("reason", o.decision().reasonText());
                        d.put(
                                "snapshots",
                                o.set().snapshots().stream()
                                        .map(Object::toString)
                                        .toList());
                        appliance.audit().append(AuditEvent.PRUNE_DESTROY, argv, Outcome.OK, d);
                    });
        } catch (RuntimeException e) {
            appliance
                    .audit()
                    .append(
                            AuditEvent.PRUNE_DESTROY,
                            argv,
                            Outcome.FAILED,
                            Map.of(
                                    "error",
                                    String.valueOf(e.getMessage())
                                            .lines()
                                            .findFirst()
                                            .orElse("")));
            throw e;
        }
        int destroyed = 0;
        int refused = 0;
        for (PruneService.Outcome o : outcomes) {
            String id = o.set().id();
            if (o.decision().kept()) {
                out.println("keep     " + id + "  (" + o.decision().reasonText() + ")");
            } else if (dryRun) {
                out.println("would destroy " + id + "  (" + o.decision().reasonText() + ")");
                destroyed++;
            } else if (o.destroyed()) {
                out.println("destroyed " + id + "  (" + o.decision().reasonText() + ")");
                destroyed++;
            } else {
                out.println("keep     " + id + "  (ZFS refused to destroy it: " + o.note() + ")");
                refused++;
            }
        }
        out.println(
                (dryRun ? "dry run: " + destroyed + " set(s) would be destroyed, " : destroyed + " set(s) destroyed, ")
                        + (outcomes.size() - destroyed) + " kept"
                        + (refused > 0 ? " (" + refused + " refused by ZFS)" : "") + ".");
        out.flush();
        return Main.OK;
    }
}

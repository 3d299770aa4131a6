// `zpitr snapshot`: one consistent, PostgreSQL-aware snapshot set now; prints its id last.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.Actor;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.snapshot.SnapshotProperties;
import io.zpitr.appliance.snapshot.SnapshotService;
import io.zpitr.zfs.HoldTag;
import io.zpitr.zfs.SnapshotSetResult;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Takes a snapshot set of every configured dataset, with PostgreSQL's position recorded on it. */
@Command(
        name = "snapshot",
        mixinStandardHelpOptions = true,
        description = {
            "Takes one consistent, PostgreSQL-aware snapshot set of all configured datasets now.",
            "PostgreSQL's position is recorded on it (timeline, checkpoint redo LSN, replay LSN, last replayed commit time).",
            "Prints the snapshot set's id last."
        })
final class SnapshotCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--label", paramLabel = "L", description = "Appended to the id (letters, digits, _ . -).")
    String label;

    @Option(names = "--hold", paramLabel = "TAG", description = "Hold the new set with this tag (a legal hold).")
    String hold;

    @Override
    public Integer call() throws Exception {
        HoldTag tag = hold == null ? null : HoldTag.of(hold);
        Appliance appliance = main.appliance();
        SnapshotService.Taken[] holder = new SnapshotService.Taken[1];
        java.util.Map<String, Object> known = new java.util.LinkedHashMap<>();
        known.put("label", label);
        known.put("hold", hold);
        AuditTrail.run(appliance, spec, AuditEvent.SNAPSHOT, known, () -> {
            SnapshotService.Taken t = appliance
                    .snapshots()
                    .take(
                            label,
                            tag,
                            appliance.standby()::position,
                            Actor.current().display(),
                            SnapshotProperties.auditHead(appliance.audit()));
            holder[0] = t;
            java.util.Map<String, Object> d = new java.util.LinkedHashMap<>();
            d.put("id", t.id());
            d.put(
                    "snapshots",
                    t.result().snapshots().stream().map(Object::toString).toList());
            d.put("atomic", t.result().atomicity() == SnapshotSetResult.Atomicity.ATOMIC);
            d.put("timeline", t.state().timeline());
            d.put("redo_lsn", t.state().redoLsn().toString());
            d.put("replay_lsn", t.state().replayLsn().toString());
            return d;
        });
        SnapshotService.Taken taken = holder[0];
        PrintWriter out = spec.commandLine().getOut();
        out.printf(
                "snapshot set of %d dataset(s), %s (%s)%n",
                taken.result().snapshots().size(),
                taken.result().atomicity() == SnapshotSetResult.Atomicity.ATOMIC
                        ? "atomic"
                        : "ordered, pg_control's dataset first",
                taken.result().method());
        out.printf(
                "PostgreSQL %d, timeline %d, redo %s, replay %s%s (from %s)%n",
                taken.state().major(),
                taken.state().timeline(),
                taken.state().redoLsn(),
                taken.state().replayLsn(),
                taken.state().replayTime() == null
                        ? ""
                        : ", last replayed commit " + taken.state().replayTime(),
                taken.state().source());
        if (tag != null) {
            out.println("held with tag " + tag);
        }
        out.println(taken.id());
        return Main.OK;
    }
}

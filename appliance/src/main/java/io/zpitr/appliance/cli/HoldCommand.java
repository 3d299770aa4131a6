// `zpitr hold ID --tag TAG`: a legal hold on every snapshot of a set.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.zfs.HoldTag;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Places a ZFS user hold on every dataset's snapshot of the set; holding again is fine. */
@Command(name = "hold", mixinStandardHelpOptions = true,
        description = "Places a legal hold (a ZFS user hold) on every snapshot of the set. Idempotent.")
final class HoldCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "The snapshot set's id, as zpitr list shows it.")
    String id;

    @Option(names = "--tag", required = true, paramLabel = "TAG", description = "The hold's tag.")
    String tag;

    @Override
    public Integer call() throws Exception {
        HoldTag holdTag = HoldTag.of(tag);
        Appliance appliance = main.appliance();
        java.util.Map<String, Object> known = new java.util.LinkedHashMap<>();
        known.put("id", id);
        known.put("tag", holdTag.value());
        SnapshotSet[] found = new SnapshotSet[1];
        AuditTrail.run(appliance, spec, AuditEvent.HOLD, known, () -> {
            found[0] = SetLookup.find(appliance, id);
            appliance.snapshots().hold(found[0], holdTag);
            return java.util.Map.of("snapshots", found[0].snapshots().stream().map(Object::toString).toList());
        });
        SnapshotSet set = found[0];
        spec.commandLine().getOut().println("held " + id + " with tag " + holdTag + " on " + set.snapshots().size()
                + " snapshot(s)");
        return Main.OK;
    }
}

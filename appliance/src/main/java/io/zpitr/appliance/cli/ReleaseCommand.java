// `zpitr release ID --tag TAG`: ends a hold on every snapshot of a set.
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

/** Releases a ZFS user hold on every dataset's snapshot of the set; releasing again is fine. */
@Command(name = "release", mixinStandardHelpOptions = true,
        description = "Releases a hold placed by zpitr hold on every snapshot of the set. Idempotent.")
final class ReleaseCommand implements Callable<Integer> {
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
        AuditTrail.run(appliance, spec, AuditEvent.RELEASE, known, () -> {
            found[0] = SetLookup.find(appliance, id);
            appliance.snapshots().release(found[0], holdTag);
            return java.util.Map.of("snapshots", found[0].snapshots().stream().map(Object::toString).toList());
        });
        SnapshotSet set = found[0];
        spec.commandLine().getOut().println("released tag " + holdTag + " on " + id);
        return Main.OK;
    }
}

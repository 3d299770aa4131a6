// What `zpitr hold` and `zpitr release` share: a set id, a tag, an audited change on every snapshot.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.zfs.HoldTag;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** A hold or release of one tag on every dataset's snapshot of a set; idempotent either way. */
abstract class HoldTagCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "The snapshot set's id, as zpitr list shows it.")
    String id;

    @Option(names = "--tag", required = true, paramLabel = "TAG", description = "The hold's tag.")
    String tag;

    abstract AuditEvent event();

    abstract void apply(Appliance appliance, SnapshotSet set, HoldTag holdTag);

    abstract String done(SnapshotSet set, HoldTag holdTag);

    @Override
    public Integer call() throws Exception {
        HoldTag holdTag = HoldTag.of(tag);
        Appliance appliance = main.appliance();
        Map<String, Object> known = new LinkedHashMap<>();
        known.put("id", id);
        known.put("tag", holdTag.value());
        SnapshotSet[] found = new SnapshotSet[1];
        AuditTrail.run(appliance, spec, event(), known, () -> {
            found[0] = SetLookup.find(appliance, id);
            apply(appliance, found[0], holdTag);
            return Map.of(
                    "snapshots",
                    found[0].snapshots().stream().map(Object::toString).toList());
        });
        spec.commandLine().getOut().println(done(found[0], holdTag));
        return Main.OK;
    }
}

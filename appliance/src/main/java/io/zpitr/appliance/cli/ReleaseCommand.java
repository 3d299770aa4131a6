// `zpitr release ID --tag TAG`: ends a hold on every snapshot of a set.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
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
    public Integer call() {
        HoldTag holdTag = HoldTag.of(tag);
        Appliance appliance = main.appliance();
        SnapshotSet set = SetLookup.find(appliance, id);
        appliance.snapshots().release(set, holdTag);
        spec.commandLine().getOut().println("released tag " + holdTag + " on " + id);
        return Main.OK;
    }
}

// `zpitr hold ID --tag TAG`: a legal hold on every snapshot of a set.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.zfs.HoldTag;
import picocli.CommandLine.Command;

/** Places a ZFS user hold on every dataset's snapshot of the set; holding again is fine. */
@Command(
        name = "hold",
        mixinStandardHelpOptions = true,
        description = "Places a legal hold (a ZFS user hold) on every snapshot of the set. Idempotent.")
final class HoldCommand extends HoldTagCommand {
    @Override
    AuditEvent event() {
        return AuditEvent.HOLD;
    }

    @Override
    void apply(Appliance appliance, SnapshotSet set, HoldTag holdTag) {
        appliance.snapshots().hold(set, holdTag);
    }

    @Override
    String done(SnapshotSet set, HoldTag holdTag) {
        return "held " + set.id() + " with tag " + holdTag + " on "
                + set.snapshots().size() + " snapshot(s)";
    }
}

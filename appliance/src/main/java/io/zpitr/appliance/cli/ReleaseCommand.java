// `zpitr release ID --tag TAG`: ends a hold on every snapshot of a set.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.zfs.HoldTag;
import picocli.CommandLine.Command;

/** Releases a ZFS user hold on every dataset's snapshot of the set; releasing again is fine. */
@Command(
        name = "release",
        mixinStandardHelpOptions = true,
        description = "Releases a hold placed by zpitr hold on every snapshot of the set. Idempotent.")
final class ReleaseCommand extends HoldTagCommand {
    @Override
    AuditEvent event() {
        return AuditEvent.RELEASE;
    }

    @Override
    void apply(Appliance appliance, SnapshotSet set, HoldTag holdTag) {
        appliance.snapshots().release(set, holdTag);
    }

    @Override
    String done(SnapshotSet set, HoldTag holdTag) {
        return "released tag " + holdTag + " on " + set.id();
    }
}

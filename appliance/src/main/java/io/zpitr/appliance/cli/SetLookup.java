// Finds a snapshot set by the id a user typed, with a helpful error when there is none.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.zfs.SnapshotName;

final class SetLookup {
    private SetLookup() {}

    /** The set; a well-formed id that names none is {@link ZpitrError#SET_NOT_FOUND} (exit 1). */
    static SnapshotSet find(Appliance appliance, String id) {
        SnapshotName.checkShortName(id); // a hostile id is refused before any zfs call
        return appliance
                .catalog()
                .find(id)
                .orElseThrow(() -> ZpitrError.SET_NOT_FOUND.exception(
                        "no snapshot set '" + id + "'\nHINT: zpitr list shows the ids"));
    }
}

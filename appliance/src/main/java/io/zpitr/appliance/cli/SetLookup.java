// Finds a snapshot set by the id a user typed, with a helpful error when there is none.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.zfs.SnapshotName;

final class SetLookup {
    private SetLookup() {
    }

    static SnapshotSet find(Appliance appliance, String id) {
        SnapshotName.checkShortName(id);  // a hostile id is refused before any zfs call
        return appliance.catalog().find(id).orElseThrow(() -> new NoSuchSetException("no snapshot set '" + id + "'"
                + "\nHINT: zpitr list shows the ids"));
    }

    /** The id names no set: the operation failed (exit 1), the input was well-formed. */
    static final class NoSuchSetException extends IllegalStateException {
        NoSuchSetException(String message) {
            super(message);
        }
    }
}

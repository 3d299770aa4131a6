// The common face of dataset and snapshot names: something a zfs command can take as an operand.
package io.zpitr.zfs;

/** A validated name that may reach a {@code zfs} command line. */
public sealed interface ZfsName permits DatasetName, SnapshotName {
    /** The full name as ZFS prints it, e.g. {@code tank/pg/data} or {@code tank/pg/data@zpitr-1}. */
    String full();
}

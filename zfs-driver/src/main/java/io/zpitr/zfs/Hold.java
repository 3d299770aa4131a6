// One user hold on a snapshot, as OpenZFS's `zfs holds` lists it.
package io.zpitr.zfs;

/**
 * A user hold.
 *
 * @param snapshot  the held snapshot
 * @param tag       the hold's tag
 * @param timestamp when it was placed, as ZFS printed it
 */
public record Hold(SnapshotName snapshot, String tag, String timestamp) {}

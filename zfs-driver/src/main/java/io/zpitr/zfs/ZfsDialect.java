// The two families of zfs command line zpitr speaks, and what each can do.
package io.zpitr.zfs;

import io.zpitr.process.ProcessResult;

/**
 * The ZFS implementation behind the {@code zfs} binary. Optional features are flags, not type
 * checks: callers ask {@link #multiSnapshot()} and friends.
 */
public enum ZfsDialect {
    /**
     * Debian's zfs-fuse, pool version 23: {@code zfs list} has no {@code -p} (so exact values come
     * from {@code zfs get -H -p}), {@code zfs snapshot} takes one name, {@code zfs holds} needs a
     * Python helper that is not shipped, {@code zfs get} has no {@code -t}, {@code zfs receive} has
     * no {@code -u}.
     */
    ZFS_FUSE(false, false, false, false, false),
    /** OpenZFS 2.x (Linux and FreeBSD): all of the above work. */
    OPENZFS(true, true, true, true, true);

    private final boolean multiSnapshot;
    private final boolean parsableList;
    private final boolean holdsListing;
    private final boolean receiveUnmounted;
    private final boolean multiPropertySet;

    ZfsDialect(
            boolean multiSnapshot,
            boolean parsableList,
            boolean holdsListing,
            boolean receiveUnmounted,
            boolean multiPropertySet) {
        this.multiPropertySet = multiPropertySet;
        this.multiSnapshot = multiSnapshot;
        this.parsableList = parsableList;
        this.holdsListing = holdsListing;
        this.receiveUnmounted = receiveUnmounted;
    }

    /** {@code zfs set a=1 b=2 NAME...} sets several properties in one call (zfs-fuse takes one per call). */
    public boolean multiPropertySet() {
        return multiPropertySet;
    }

    /** {@code zfs receive -u} leaves what it received unmounted (zfs-fuse's receive has no {@code -u}). */
    public boolean receiveUnmounted() {
        return receiveUnmounted;
    }

    /** {@code zfs snapshot a@s b@s} is one atomic operation. */
    public boolean multiSnapshot() {
        return multiSnapshot;
    }

    /** {@code zfs list -p} prints exact numeric values. */
    public boolean parsableList() {
        return parsableList;
    }

    /** {@code zfs holds} lists tags. */
    public boolean holdsListing() {
        return holdsListing;
    }

    /**
     * Reads the dialect off {@code zfs version}: OpenZFS 0.8 and later answer {@code zfs-2.x.y};
     * zfs-fuse has no such command ("unrecognized command 'version'").
     *
     * @throws ZfsException if the answer is neither
     */
    static ZfsDialect fromVersionProbe(ProcessResult probe) {
        if (probe.succeeded() && probe.stdout().lines().anyMatch(l -> l.startsWith("zfs-"))) {
            return OPENZFS;
        }
        if (!probe.succeeded() && probe.stderr().contains("unrecognized command 'version'")) {
            return ZFS_FUSE;
        }
        throw new ZfsException(
                "cannot tell which ZFS this is from 'zfs version' (exit " + probe.exitCode()
                        + "): "
                        + (probe.stdout() + probe.stderr())
                                .strip()
                                .lines()
                                .findFirst()
                                .orElse("no output")
                        + "\nHINT: is the ZFS daemon or kernel module running? (zfs-fuse: start 'zfs-fuse')",
                probe.argv(),
                probe.exitCode(),
                probe.stderr());
    }
}

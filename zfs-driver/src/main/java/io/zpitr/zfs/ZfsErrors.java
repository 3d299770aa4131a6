// Maps the stderr of a failed zfs command to a typed exception.
package io.zpitr.zfs;

import io.zpitr.process.ProcessResult;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a failed {@code zfs} run into a {@link ZfsException}. The texts matched are those of
 * zfs-fuse (pool version 23) and OpenZFS 2.x, which share libzfs's wording for these cases; the
 * real-pool tests prove each one against zfs-fuse. Unknown texts stay generic.
 */
final class ZfsErrors {
    private ZfsErrors() {}

    static ZfsException classify(ProcessResult result) {
        String err = result.stderr().strip();
        List<String> argv = result.argv();
        int status = result.exitCode();
        String message = "zfs " + String.join(" ", argv.subList(1, argv.size())) + " failed (exit " + status + "): "
                + (err.isEmpty() ? "no message" : firstLine(err));
        if (err.contains("dataset does not exist")
                || err.contains("source (@") && err.contains("does not exist")
                || err.contains("could not find any snapshots to destroy")) {
            return new ZfsException.NoSuchDatasetException(message, argv, status, err);
        }
        if (err.contains("dataset already exists") || err.contains("destination exists")) {
            return new ZfsException.DatasetExistsException(message, argv, status, err);
        }
        if (err.contains("has dependent clones")) {
            return new ZfsException.DependentClonesException(
                    message + "\nHINT: destroy the clones first (zpitr restore-drop), or keep the snapshot",
                    argv,
                    status,
                    err,
                    listedAfterUseHint(err));
        }
        if (err.contains("it's being held") || err.contains("is being held")) {
            return new ZfsException.SnapshotHeldException(message, argv, status, err);
        }
        // zfs-fuse says it through umount(8): "umount: <mountpoint>: target is busy."
        if (err.contains("dataset is busy")
                || err.contains("pool or dataset is busy")
                || err.contains("target is busy")) {
            return new ZfsException.DatasetBusyException(message, argv, status, err);
        }
        if (err.contains("has children")) {
            return new ZfsException.DatasetHasChildrenException(message, argv, status, err);
        }
        return new ZfsException(message, argv, status, err);
    }

    /** ZFS follows "use '-R' to destroy the following datasets:" with one name per line. */
    private static List<String> listedAfterUseHint(String err) {
        List<String> names = new ArrayList<>();
        boolean listing = false;
        for (String line : err.lines().toList()) {
            if (listing && !line.isBlank()) {
                names.add(line.strip());
            }
            if (line.startsWith("use '-")) {
                listing = true;
            }
        }
        return names;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}

// Failures of zfs commands: one generic type carrying argv, status and stderr, and typed subclasses.
package io.zpitr.zfs;

import java.util.List;

/**
 * A {@code zfs} command failed. Messages that zpitr recognises become subclasses
 * ({@link NoSuchDatasetException}, {@link DatasetExistsException}, {@link DependentClonesException},
 * {@link SnapshotHeldException}, {@link DatasetBusyException}, {@link DatasetHasChildrenException});
 * anything else is this class, carrying the argv, the exit status and the captured stderr.
 */
public class ZfsException extends RuntimeException {
    private final List<String> argv;
    private final int exitStatus;
    private final String stderr;

    public ZfsException(String message, List<String> argv, int exitStatus, String stderr) {
        super(message);
        this.argv = List.copyOf(argv);
        this.exitStatus = exitStatus;
        this.stderr = stderr;
    }

    public List<String> argv() {
        return argv;
    }

    public int exitStatus() {
        return exitStatus;
    }

    public String stderr() {
        return stderr;
    }

    /** The dataset or snapshot does not exist. */
    public static class NoSuchDatasetException extends ZfsException {
        public NoSuchDatasetException(String message, List<String> argv, int status, String stderr) {
            super(message, argv, status, stderr);
        }
    }

    /** The dataset or snapshot to create exists already. */
    public static class DatasetExistsException extends ZfsException {
        public DatasetExistsException(String message, List<String> argv, int status, String stderr) {
            super(message, argv, status, stderr);
        }
    }

    /** A snapshot cannot be destroyed while clones of it exist. */
    public static class DependentClonesException extends ZfsException {
        private final List<String> clones;

        public DependentClonesException(
                String message, List<String> argv, int status, String stderr, List<String> clones) {
            super(message, argv, status, stderr);
            this.clones = List.copyOf(clones);
        }

        /** The clones ZFS named, if it listed them. */
        public List<String> clones() {
            return clones;
        }
    }

    /** A snapshot cannot be destroyed while it has user holds. */
    public static class SnapshotHeldException extends ZfsException {
        public SnapshotHeldException(String message, List<String> argv, int status, String stderr) {
            super(message, argv, status, stderr);
        }
    }

    /** The dataset is busy (mounted and in use, or just unmounted under zfs-fuse). */
    public static class DatasetBusyException extends ZfsException {
        public DatasetBusyException(String message, List<String> argv, int status, String stderr) {
            super(message, argv, status, stderr);
        }
    }

    /** A dataset with children or snapshots cannot be destroyed without recursion. */
    public static class DatasetHasChildrenException extends ZfsException {
        public DatasetHasChildrenException(String message, List<String> argv, int status, String stderr) {
            super(message, argv, status, stderr);
        }
    }

    /** The running ZFS lacks the feature (for example {@code zfs holds} on zfs-fuse). */
    public static class FeatureUnavailableException extends ZfsException {
        public FeatureUnavailableException(String message) {
            super(message, List.of(), 0, "");
        }
    }
}

// How a zfs command line reaches the machine whose pool it acts on: as is, or wrapped (ssh to a replica).
package io.zpitr.zfs;

import java.util.List;
import java.util.Optional;

/**
 * Turns the argv of a {@code zfs} command into the argv actually started. {@link #LOCAL} starts it
 * as is; a replication target reached over SSH wraps it in an {@code ssh} command line. The
 * wrapper must keep every element one argument on the far side: {@link Zfs} hands it only
 * validated names and values, and the wrapper quotes them for the remote shell.
 */
public interface ZfsLauncher {
    /** The zfs command on this machine. */
    ZfsLauncher LOCAL = new ZfsLauncher() {
        @Override
        public List<String> argv(List<String> zfsArgv) {
            return zfsArgv;
        }

        @Override
        public String toString() {
            return "this machine";
        }
    };

    /** The argv to start for {@code zfsArgv} (whose first element is the zfs binary). */
    List<String> argv(List<String> zfsArgv);

    /**
     * One argv that runs several zfs commands in order and stops at the first that fails (its exit
     * status and stderr are the result), or empty where starting each on its own costs nothing worth
     * saving. The default is empty: on this machine a zfs process is cheap; over ssh each command is
     * a session, about half a second on a quiet machine and seconds on a loaded one.
     */
    default Optional<List<String>> argvOfSequence(List<List<String>> zfsArgvs) {
        return Optional.empty();
    }
}

// One replication target as configured (replication.targets[]), validated on construction.
package io.zpitr.appliance.replication;

import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.HoldTag;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Where {@code zpitr replicate} sends the snapshot sets: a pool on this machine ({@link Type#LOCAL})
 * or on a host reached over SSH ({@link Type#SSH}, public key only, host key pinned in
 * {@code known_hosts}). Built only by {@link ReplicationTargets}, which checks every value first.
 *
 * @param name           the target's name: in messages, the cursor hold tag and the state file
 * @param type           ssh or local
 * @param host           ssh only: host name or address
 * @param port           ssh only: sshd's port
 * @param user           ssh only: login user; {@code zfs} runs as this user on the host
 * @param identityFile   ssh only: the private key (the only credential)
 * @param knownHosts     ssh only: the known_hosts file the host key is checked against
 * @param datasetRoot    the dataset below which source {@code pool/a/b} lands as {@code <root>/a/b}
 * @param connectTimeout ssh only: OpenSSH's ConnectTimeout (TCP connect and banner)
 * @param ioTimeout      ssh only: a host silent this long is given up (keepalives unanswered)
 */
public record ReplicationTarget(
        String name,
        Type type,
        String host,
        int port,
        String user,
        Path identityFile,
        Path knownHosts,
        DatasetName datasetRoot,
        Duration connectTimeout,
        Duration ioTimeout) {

    /** How the target's pool is reached. */
    public enum Type {
        SSH,
        LOCAL
    }

    /** Prefix of the cursor hold tags; a set held with {@code zpitr-repl-<target>} is that target's cursor. */
    public static final String CURSOR_PREFIX = io.zpitr.appliance.snapshot.SnapshotSet.REPLICATION_CURSOR_PREFIX;

    public ReplicationTarget {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(datasetRoot, "datasetRoot");
    }

    /** The hold that marks, on the source, the newest set complete on this target. */
    public HoldTag cursorTag() {
        return HoldTag.of(CURSOR_PREFIX + name);
    }

    /** Where a source dataset lands: {@code pool/a/b} at {@code <dataset_root>/a/b}; the pool itself at the root. */
    public DatasetName landing(DatasetName source) {
        DatasetName d = datasetRoot;
        for (String component :
                source.components().subList(1, source.components().size())) {
            d = d.child(component);
        }
        return d;
    }

    /** For messages: {@code dr1 (root@192.0.2.40:22)} or {@code dr1 (local)}. */
    public String describe() {
        return name + " (" + (type == Type.LOCAL ? "local" : user + "@" + hostAndPort()) + ")";
    }

    /** {@code host:port}, an IPv6 address in brackets. */
    public String hostAndPort() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}

// Reads replication.targets from the configuration, refusing anything that could reach a shell or a wrong pool.
package io.zpitr.appliance.replication;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.DurationText;
import io.zpitr.appliance.config.ZpitrConfig;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.InvalidNameException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The configured replication targets, validated without touching the system: names, hosts, users,
 * key files and dataset roots are checked against the same narrow rules as archive sources, because
 * each one reaches an {@code ssh} command line and, through it, the remote user's shell. A refused
 * value is a {@link ConfigException} naming the target, the key and the value (exit 2).
 */
public final class ReplicationTargets {
    /** OpenSSH's ConnectTimeout when the target does not set {@code connect_timeout}. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** How long a silent host is waited for when the target does not set {@code io_timeout}. */
    public static final Duration DEFAULT_IO_TIMEOUT = Duration.ofSeconds(60);

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private static final Pattern HOST =
            Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}");
    private static final Pattern OPENSSH_SPECIAL = Pattern.compile("[\\s\"'%\\\\]");

    private final List<ReplicationTarget> targets;

    private ReplicationTargets(List<ReplicationTarget> targets) {
        this.targets = List.copyOf(targets);
    }

    /**
     * Validates {@code replication.targets}; an absent section means no targets.
     *
     * @param folder   the config file's folder (relative key files are relative to it)
     * @param datasets {@code zfs.datasets}: a local target may not overlap them
     */
    public static ReplicationTargets from(Path folder, List<DatasetName> datasets, ZpitrConfig.Replication r) {
        List<ReplicationTarget> out = new ArrayList<>();
        if (r == null || r.targets() == null) {
            return new ReplicationTargets(out);
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < r.targets().size(); i++) {
            ReplicationTarget t = target(folder, datasets, i, r.targets().get(i));
            if (!names.add(t.name())) {
                throw new ConfigException("replication.targets: the name '" + t.name() + "' is used twice");
            }
            out.add(t);
        }
        return new ReplicationTargets(out);
    }

    public List<ReplicationTarget> all() {
        return targets;
    }

    /**
     * The target called {@code name}, or every target when {@code name} is null.
     *
     * @throws ConfigException when none is configured; {@code invalid-argument} when none has that name (exit 2)
     */
    public List<ReplicationTarget> select(String name) {
        if (targets.isEmpty()) {
            throw new ConfigException("no replication target is configured"
                    + "\nHINT: add replication.targets to the config (docs/operations.md, \"Offsite replica\")");
        }
        if (name == null) {
            return targets;
        }
        return targets.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .map(List::of)
                .orElseThrow(() -> ZpitrError.INVALID_ARGUMENT.exception("unknown replication target '"
                        + printable(name) + "'" + "\nHINT: configured targets: "
                        + String.join(
                                ", ",
                                targets.stream().map(ReplicationTarget::name).toList())));
    }

    private static ReplicationTarget target(Path folder, List<DatasetName> datasets, int index, ZpitrConfig.Target t) {
        String where = "replication.targets[" + index + "]";
        if (t == null || t.name() == null || !NAME.matcher(t.name()).matches()) {
            throw new ConfigException(where + ".name '" + printable(t == null ? null : t.name())
                    + "' is not accepted\nHINT: 1-63 letters, digits and _ . -, starting with a letter or digit");
        }
        where = "replication target '" + t.name() + "'";
        if (t.datasetRoot() == null || t.datasetRoot().isBlank()) {
            throw new ConfigException(where + ": 'dataset_root' is required"
                    + "\nHINT: the dataset on the target below which the sets land, e.g. backup/zpitr");
        }
        DatasetName root;
        try {
            root = DatasetName.of(t.datasetRoot());
        } catch (InvalidNameException e) {
            throw new ConfigException(where + ": dataset_root: " + e.getMessage(), e);
        }
        String type = t.type() == null ? "" : t.type();
        switch (type) {
            case "local" -> {
                for (Object sshOnly : new Object[] {
                    t.host(), t.port(), t.user(), t.identityFile(), t.knownHosts(), t.connectTimeout(), t.ioTimeout()
                }) {
                    if (sshOnly != null) {
                        throw new ConfigException(where + ": a local target takes only name, type and dataset_root");
                    }
                }
                for (DatasetName source : datasets) {
                    if (root.contains(source) || source.contains(root)) {
                        throw new ConfigException(where + ": dataset_root " + root + " overlaps the source dataset "
                                + source + "\nHINT: replicate into another pool, or a dataset outside zfs.datasets");
                    }
                }
                return new ReplicationTarget(
                        t.name(), ReplicationTarget.Type.LOCAL, null, 0, null, null, null, root, null, null);
            }
            case "ssh" -> {
                require(where, "host", t.host());
                require(where, "user", t.user());
                require(where, "identity_file", t.identityFile());
                require(where, "known_hosts", t.knownHosts());
                if (!HOST.matcher(t.host()).matches()) {
                    throw refused(where, "host", t.host(), "a host name (letters, digits, '.', '-') or an IP address");
                }
                int port = t.port() == null ? 22 : t.port();
                if (port < 1 || port > 65535) {
                    throw refused(where, "port", Integer.toString(port), "a TCP port, 1 to 65535");
                }
                if (!USER.matcher(t.user()).matches()) {
                    throw refused(where, "user", t.user(), "a login name of letters, digits, '_', '.', '-'");
                }
                Path identity = sshFile(where, "identity_file", folder, t.identityFile());
                Path knownHosts = sshFile(where, "known_hosts", folder, t.knownHosts());
                Duration connect = positive(where, "connect_timeout", t.connectTimeout(), DEFAULT_CONNECT_TIMEOUT);
                Duration io = positive(where, "io_timeout", t.ioTimeout(), DEFAULT_IO_TIMEOUT);
                return new ReplicationTarget(
                        t.name(),
                        ReplicationTarget.Type.SSH,
                        t.host(),
                        port,
                        t.user(),
                        identity,
                        knownHosts,
                        root,
                        connect,
                        io);
            }
            default ->
                throw new ConfigException(where + ": type must be 'ssh' or 'local', not '" + printable(type) + "'");
        }
    }

    private static Path sshFile(String where, String key, Path folder, String text) {
        if (OPENSSH_SPECIAL.matcher(text).find() || text.chars().anyMatch(Character::isISOControl)) {
            throw refused(
                    where,
                    key,
                    text,
                    "a path without whitespace, quotes, '%' or '\\' (OpenSSH splits or expands those)");
        }
        return folder.resolve(text).normalize();
    }

    private static Duration positive(String where, String key, String text, Duration otherwise) {
        if (text == null) {
            return otherwise;
        }
        Duration d;
        try {
            d = DurationText.parse(text);
        } catch (ConfigException e) {
            throw new ConfigException(where + ": " + key + ": " + e.getMessage(), e);
        }
        if (d.isZero() || d.isNegative()) {
            throw refused(where, key, text, "a positive duration such as 10s");
        }
        return d;
    }

    private static void require(String where, String key, String value) {
        if (value == null || value.isBlank()) {
            throw new ConfigException(where + ": '" + key + "' is required for type ssh");
        }
    }

    private static ConfigException refused(String where, String key, String value, String expected) {
        return new ConfigException(
                where + ": " + key + " '" + printable(value) + "' is not accepted" + "\nHINT: expected " + expected);
    }

    private static String printable(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        value.codePoints().limit(120).forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return b.toString();
    }
}

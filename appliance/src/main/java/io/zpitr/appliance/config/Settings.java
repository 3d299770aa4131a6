// The validated configuration, with defaults applied and paths resolved against the file's folder.
package io.zpitr.appliance.config;

import io.zpitr.appliance.drill.ConfiguredCheck;
import io.zpitr.appliance.retention.RetentionPolicy;
import io.zpitr.archive.SshHostConfig;
import io.zpitr.zfs.DatasetName;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the commands use: every config value read, validated and defaulted here, once, into typed
 * values; nothing below the config package sees the YAML. Construction validates everything it can
 * without touching the system: names, zones, durations, ports, source definitions, the retention
 * policy.
 *
 * @param retention  the {@code retention} section as a policy; empty when there is none (prune refuses)
 * @param schedule   the {@code schedule} section's expressions, as written (the daemon parses them in its zone)
 * @param restore    the {@code restore} section; empty when there is none (restore refuses)
 * @param auditLog   {@code audit.log}, default {@code <state_dir>/audit.jsonl}
 * @param metricsFile {@code metrics.textfile}, default {@code <state_dir>/zpitr.prom}
 * @param drillChecks {@code drill.checks}, each validated with its expectation parsed; none when absent
 * @param drillProveWithin {@code drill.prove_within}: every retained set should be proven by a drill this
 *                    often; empty when not set (no set is then overdue)
 * @param replication {@code replication.targets}, validated (every value reaches an ssh command line)
 */
public record Settings(
        Path file,
        ZoneId timezone,
        Path stateDir,
        String zfsCommand,
        List<DatasetName> datasets,
        String snapshotPrefix,
        Archive archive,
        PostgresSettings postgres,
        Optional<RetentionPolicy> retention,
        Schedules schedule,
        Optional<Restore> restore,
        Path auditLog,
        Path metricsFile,
        List<ConfiguredCheck> drillChecks,
        io.zpitr.appliance.replication.ReplicationTargets replication,
        Optional<Duration> drillProveWithin) {

    /** The archive section, validated. */
    public record Archive(
            List<Source> sources,
            Duration connectTimeout,
            Duration downFor,
            Path spoolDir,
            int prefetch,
            Duration ioTimeout,
            Optional<Path> mirrorDir) {
        /** As the canonical constructor, with the default {@code io_timeout} and no WAL mirror. */
        public Archive(List<Source> sources, Duration connectTimeout, Duration downFor, Path spoolDir, int prefetch) {
            this(
                    sources,
                    connectTimeout,
                    downFor,
                    spoolDir,
                    prefetch,
                    SshHostConfig.DEFAULT_IO_TIMEOUT,
                    Optional.empty());
        }
    }

    /** One archive source, validated; ssh-only fields are null for a local source. */
    public record Source(
            String name,
            String type,
            Path path,
            String remotePath,
            String host,
            int port,
            String user,
            Path identityFile,
            Path knownHosts,
            List<String> transports) {}

    /** The {@code schedule} section: 5-field cron or Quartz expressions, as written; empty when not set. */
    public record Schedules(
            Optional<String> snapshot, Optional<String> prune, Optional<String> drill, Optional<String> replicate) {
        static Schedules from(ZpitrConfig.Schedule s) {
            return s == null
                    ? new Schedules(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty())
                    : new Schedules(
                            Optional.ofNullable(s.snapshot()),
                            Optional.ofNullable(s.prune()),
                            Optional.ofNullable(s.drill()).filter(d -> !d.isBlank()),
                            Optional.ofNullable(s.replicate()));
        }
    }

    /**
     * The {@code restore} section.
     *
     * @param datasetRoot below which restores are cloned ({@code restore.dataset_root})
     * @param mountRoot   where they are mounted ({@code restore.mount_root})
     * @param firstPort   the first port tried ({@code restore.port}, default 6432)
     * @param defaultTtl  how long a restore made without {@code --ttl} lives ({@code restore.default_ttl}); empty: for ever
     */
    public record Restore(DatasetName datasetRoot, Path mountRoot, int firstPort, Optional<Duration> defaultTtl) {
        static Optional<Restore> from(Path folder, ZpitrConfig.Restore r) {
            if (r == null) {
                return Optional.empty();
            }
            if (r.datasetRoot() == null || r.mountRoot() == null) {
                throw new ConfigException("restore.dataset_root and restore.mount_root are both needed when the restore"
                        + " section is there");
            }
            int port = r.port() == null ? 6432 : r.port();
            if (port < 1 || port > 65535) {
                throw new ConfigException("restore.port " + port + " is out of range");
            }
            Optional<Duration> ttl = r.defaultTtl() == null || r.defaultTtl().isBlank()
                    ? Optional.empty()
                    : Optional.of(positive("restore.default_ttl", r.defaultTtl().strip()));
            return Optional.of(new Restore(DatasetName.of(r.datasetRoot()), resolve(folder, r.mountRoot()), port, ttl));
        }
    }

    private static final Pattern SOURCE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}");

    static Settings from(Path file, ZpitrConfig raw) {
        Path folder = file.getParent();
        ZoneId zone;
        try {
            zone = ZoneId.of(raw.timezone() == null ? "UTC" : raw.timezone());
        } catch (DateTimeException e) {
            throw new ConfigException(
                    "timezone '" + raw.timezone() + "' is not a known zone (e.g. UTC, Asia/Singapore)");
        }
        Path stateDir = resolve(folder, raw.stateDir() == null ? "/var/lib/zpitr" : raw.stateDir());
        String zfsCommand = "zfs";
        List<DatasetName> datasets = List.of();
        String prefix = "zpitr";
        if (raw.zfs() != null) {
            zfsCommand = raw.zfs().command() == null ? "zfs" : raw.zfs().command();
            if (raw.zfs().datasets() != null) {
                datasets = new ArrayList<>();
                for (String d : raw.zfs().datasets()) {
                    datasets.add(DatasetName.of(d));
                }
                if (new HashSet<>(datasets).size() != datasets.size()) {
                    throw new ConfigException("zfs.datasets lists a dataset twice");
                }
            }
            if (raw.zfs().snapshotPrefix() != null) {
                prefix = raw.zfs().snapshotPrefix();
                if (!PREFIX.matcher(prefix).matches()) {
                    throw new ConfigException("zfs.snapshot_prefix '" + prefix
                            + "' must be letters, digits and _ . : - (a snapshot name component)");
                }
            }
        }
        return new Settings(
                file,
                zone,
                stateDir,
                zfsCommand,
                List.copyOf(datasets),
                prefix,
                archive(folder, stateDir, raw.archive()),
                PostgresSettings.from(folder, raw.postgres()),
                retention(raw.retention()),
                Schedules.from(raw.schedule()),
                Restore.from(folder, raw.restore()),
                auditLog(file, stateDir, raw.audit()),
                raw.metrics() == null || raw.metrics().textfile() == null
                        ? stateDir.resolve("zpitr.prom")
                        : resolve(folder, raw.metrics().textfile()),
                ConfiguredCheck.from(raw.drill()),
                io.zpitr.appliance.replication.ReplicationTargets.from(
                        folder, List.copyOf(datasets), raw.replication()),
                proveWithin(raw.drill()));
    }

    /** {@code drill.prove_within}: a duration above 0, or empty (absent or blank) for no period. */
    private static Optional<Duration> proveWithin(ZpitrConfig.Drill drill) {
        if (drill == null || drill.proveWithin() == null || drill.proveWithin().isBlank()) {
            return Optional.empty();
        }
        return Optional.of(positive("drill.prove_within", drill.proveWithin().strip()));
    }

    /** The retention policy (missing counts are 0; keep_within defaults to 0). */
    private static Optional<RetentionPolicy> retention(ZpitrConfig.Retention r) {
        if (r == null) {
            return Optional.empty();
        }
        Duration within = r.keepWithin() == null ? Duration.ZERO : duration("retention.keep_within", r.keepWithin());
        try {
            return Optional.of(new RetentionPolicy(
                    within, n(r.hourly()), n(r.daily()), n(r.weekly()), n(r.monthly()), n(r.yearly())));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

    private static int n(Integer i) {
        return i == null ? 0 : i;
    }

    /**
     * The audit log: {@code audit.log}, relative to the config file's folder when relative, else
     * {@code <state_dir>/audit.jsonl}.
     */
    private static Path auditLog(Path file, Path stateDir, ZpitrConfig.Audit audit) {
        if (audit == null || audit.log() == null) {
            return stateDir.resolve("audit.jsonl");
        }
        if (audit.log().isBlank()) {
            throw new ConfigException(
                    "audit.log is empty; name a file, or leave the key out for " + stateDir.resolve("audit.jsonl"));
        }
        return resolve(file.getParent(), audit.log());
    }

    private static Archive archive(Path folder, Path stateDir, ZpitrConfig.Archive a) {
        if (a == null) {
            return new Archive(List.of(), Duration.ofSeconds(1), Duration.ofSeconds(60), stateDir.resolve("spool"), 8);
        }
        Duration connect = a.connectTimeout() == null
                ? Duration.ofSeconds(1)
                : positive("archive.connect_timeout", a.connectTimeout());
        Duration down = a.downFor() == null ? Duration.ofSeconds(60) : duration("archive.down_for", a.downFor());
        Duration io = a.ioTimeout() == null
                ? SshHostConfig.DEFAULT_IO_TIMEOUT
                : positive("archive.io_timeout", a.ioTimeout());
        Path spool = a.spoolDir() == null ? stateDir.resolve("spool") : resolve(folder, a.spoolDir());
        if (Boolean.TRUE.equals(a.cleanup())) {
            throw new ConfigException("archive.cleanup: true is not supported by this version: zpitr deletes no"
                    + " archived WAL\nHINT: remove the key or set it to false");
        }
        int prefetch = a.prefetch() == null ? 8 : a.prefetch();
        if (prefetch < 0 || prefetch > 256) {
            throw new ConfigException("archive.prefetch must be between 0 and 256, not " + prefetch);
        }
        List<Source> sources = new ArrayList<>();
        Set<String> names = new HashSet<>();
        List<ZpitrConfig.Source> given = a.sources() == null ? List.of() : a.sources();
        for (int i = 0; i < given.size(); i++) {
            Source s = source(folder, i, given.get(i));
            if (!names.add(s.name())) {
                throw new ConfigException("archive.sources: the name '" + s.name() + "' is used twice");
            }
            sources.add(s);
        }
        // archive.mirror_dir: the WAL since the newest snapshot set, kept on this machine (WalMirror); empty = none.
        Optional<Path> mirror = a.mirrorDir() == null || a.mirrorDir().isBlank()
                ? Optional.empty()
                : Optional.of(resolve(folder, a.mirrorDir()));
        if (mirror.isPresent()
                && (mirror.get().equals(spool) || mirror.get().startsWith(spool) || spool.startsWith(mirror.get()))) {
            throw new ConfigException("archive.mirror_dir '" + mirror.get() + "' overlaps archive.spool_dir '" + spool
                    + "'\nHINT: give the mirror a folder of its own, e.g. " + stateDir.resolve("wal-mirror"));
        }
        return new Archive(List.copyOf(sources), connect, down, spool, prefetch, io, mirror);
    }

    private static Source source(Path folder, int index, ZpitrConfig.Source s) {
        String where = "archive.sources[" + index + "]";
        if (s.name() == null || !SOURCE_NAME.matcher(s.name()).matches()) {
            throw new ConfigException(where + ".name '" + s.name() + "' must be 1-63 letters, digits and _ . -");
        }
        where = "archive source '" + s.name() + "'";
        String type = s.type() == null ? "" : s.type();
        switch (type) {
            case "local" -> {
                require(where, "path", s.path());
                for (String other : new String[] {s.host(), s.user(), s.identityFile(), s.knownHosts()}) {
                    if (other != null) {
                        throw new ConfigException(where + ": a local source takes only name, type and path");
                    }
                }
                return new Source(
                        s.name(), type, resolve(folder, s.path()), null, null, 0, null, null, null, List.of());
            }
            case "ssh" -> {
                require(where, "host", s.host());
                require(where, "user", s.user());
                require(where, "path", s.path());
                require(where, "identity_file", s.identityFile());
                require(where, "known_hosts", s.knownHosts());
                int port = s.port() == null ? 22 : s.port();
                if (port < 1 || port > 65535) {
                    throw new ConfigException(where + ": port " + port + " is out of range");
                }
                if (!s.host().matches("[A-Za-z0-9][A-Za-z0-9.:-]{0,252}")) {
                    throw new ConfigException(where + ": host '" + s.host() + "' is not a host name or address");
                }
                if (!s.user().matches("[a-z_][a-z0-9_.-]{0,31}")) {
                    throw new ConfigException(where + ": user '" + s.user() + "' is not a user name");
                }
                if (!s.path().startsWith("/")
                        || !s.path().matches("[A-Za-z0-9/_.+-]+")
                        || s.path().contains("/../")
                        || s.path().endsWith("/..")) {
                    throw new ConfigException(where + ": path '" + s.path()
                            + "' must be absolute, without '..', in letters, digits and / _ . + -");
                }
                List<String> transports = s.transports() == null ? List.of("sftp", "scp") : List.copyOf(s.transports());
                if (transports.isEmpty()
                        || !Set.of("sftp", "scp").containsAll(transports)
                        || new HashSet<>(transports).size() != transports.size()) {
                    throw new ConfigException(
                            where + ": transports must list sftp and/or scp once each, not " + transports);
                }
                return new Source(
                        s.name(),
                        type,
                        null,
                        s.path(),
                        s.host(),
                        port,
                        s.user(),
                        resolve(folder, s.identityFile()),
                        resolve(folder, s.knownHosts()),
                        transports);
            }
            default -> throw new ConfigException(where + ": type must be 'local' or 'ssh', not '" + type + "'");
        }
    }

    private static void require(String where, String key, String value) {
        if (value == null || value.isBlank()) {
            throw new ConfigException(where + ": '" + key + "' is required");
        }
    }

    private static Duration positive(String key, String text) {
        Duration d = duration(key, text);
        if (d.isZero()) {
            throw new ConfigException(key + " must be more than 0");
        }
        return d;
    }

    private static Duration duration(String key, String text) {
        try {
            return DurationText.parse(text);
        } catch (ConfigException e) {
            throw new ConfigException(key + ": " + e.getMessage(), e);
        }
    }

    static Path resolve(Path folder, String path) {
        if (path.indexOf('\0') >= 0) {
            throw new ConfigException("a path contains a NUL byte");
        }
        return folder.resolve(path).normalize();
    }

    /** Where wal-fetch counts its outcomes per source, for the metrics. */
    public Path walFetchCounters() {
        return stateDir.resolve("counters");
    }

    /** The same settings with another prefetch spool (a restore's own, so it never mixes with the standby's). */
    public Settings withSpoolDir(Path spoolDir) {
        Archive a = new Archive(
                archive.sources(),
                archive.connectTimeout(),
                archive.downFor(),
                spoolDir,
                archive.prefetch(),
                archive.ioTimeout(),
                archive.mirrorDir());
        return new Settings(
                file,
                timezone,
                stateDir,
                zfsCommand,
                datasets,
                snapshotPrefix,
                a,
                postgres,
                retention,
                schedule,
                restore,
                auditLog,
                metricsFile,
                drillChecks,
                replication,
                drillProveWithin);
    }
}

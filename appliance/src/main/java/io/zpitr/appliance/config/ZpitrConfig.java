// The configuration file's contract (docs/design.md), as read from YAML.
package io.zpitr.appliance.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The whole configuration, as read from YAML. Key names are the contract and are fixed; unknown
 * keys are refused with their line (see {@link ConfigLoader}). Values here are raw; the loader
 * validates them and resolves relative paths against the file's folder.
 */
public record ZpitrConfig(
        String timezone,
        @JsonProperty("state_dir") String stateDir,
        Zfs zfs,
        Postgres postgres,
        Archive archive,
        Schedule schedule,
        Retention retention,
        Restore restore,
        Audit audit,
        Metrics metrics,
        Drill drill,
        Replication replication) {

    /** The {@code zfs} section. */
    public record Zfs(
            String command,
            List<String> datasets,
            @JsonProperty("snapshot_prefix") String snapshotPrefix) {}

    /** The {@code postgres} section. */
    public record Postgres(
            @JsonProperty("bin_dir") String binDir,
            @JsonProperty("data_dir") String dataDir,
            @JsonProperty("os_user") String osUser,
            Connection standby,
            Connection primary) {}

    /** How to reach one PostgreSQL server; {@code host} may be a socket folder. */
    public record Connection(
            String host,
            Integer port,
            String user,
            String database,
            @JsonProperty("password_file") String passwordFile) {}

    /** The {@code archive} section. */
    public record Archive(
            List<Source> sources,
            @JsonProperty("connect_timeout") String connectTimeout,
            @JsonProperty("down_for") String downFor,
            @JsonProperty("spool_dir") String spoolDir,
            Integer prefetch,
            Boolean cleanup,
            @JsonProperty("io_timeout") String ioTimeout,
            @JsonProperty("mirror_dir") String mirrorDir) {}

    /** One archive source: {@code type: local} (path) or {@code type: ssh} (host and keys). */
    public record Source(
            String name,
            String type,
            String path,
            String host,
            Integer port,
            String user,
            @JsonProperty("identity_file") String identityFile,
            @JsonProperty("known_hosts") String knownHosts,
            List<String> transports) {}

    /** The {@code schedule} section: 5-field cron or Quartz expressions. */
    public record Schedule(String snapshot, String prune, String drill, String replicate) {}

    /** The {@code replication} section: where {@code zpitr replicate} sends the snapshot sets. */
    public record Replication(List<Target> targets) {}

    /** One replication target: {@code type: ssh} (host and keys) or {@code type: local} (a pool on this machine). */
    public record Target(
            String name,
            String type,
            String host,
            Integer port,
            String user,
            @JsonProperty("identity_file") String identityFile,
            @JsonProperty("known_hosts") String knownHosts,
            @JsonProperty("dataset_root") String datasetRoot,
            @JsonProperty("connect_timeout") String connectTimeout,
            @JsonProperty("io_timeout") String ioTimeout) {}

    /** The {@code retention} section. */
    public record Retention(
            @JsonProperty("keep_within") String keepWithin,
            Integer hourly,
            Integer daily,
            Integer weekly,
            Integer monthly,
            Integer yearly) {}

    /** The {@code restore} section. */
    public record Restore(
            @JsonProperty("dataset_root") String datasetRoot,
            @JsonProperty("mount_root") String mountRoot,
            Integer port,
            @JsonProperty("default_ttl") String defaultTtl) {}

    /** The {@code metrics} section: where the daemon writes its Prometheus text file. */
    public record Metrics(String textfile) {}

    /**
     * The {@code drill} section: the checks every drill runs on its restored instance, and the period
     * within which every retained set should be proven by a drill ({@code prove_within}; empty: none).
     */
    public record Drill(
            List<DrillCheck> checks,
            @JsonProperty("prove_within") String proveWithin) {}

    /** One drill check: one value from one SQL in one database, compared with an expectation such as {@code > 0}. */
    public record DrillCheck(String name, String database, String sql, String expect) {}

    /** The {@code audit} section. */
    public record Audit(String log) {}
}

// The appliance for one configuration: builds the services the commands use, once, on demand.
package io.zpitr.appliance;

import io.zpitr.appliance.audit.AuditLog;
import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.postgres.StandbyServer;
import io.zpitr.appliance.retention.RetentionPolicy;
import io.zpitr.appliance.snapshot.PruneService;
import io.zpitr.appliance.snapshot.SnapshotCatalog;
import io.zpitr.appliance.snapshot.SnapshotService;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.Zfs;
import java.time.Clock;

/**
 * Composition root: commands ask it for services instead of building ZFS, SQL or process plumbing
 * themselves. It only wires: what a service does lives in the service. Nothing is started until
 * asked for.
 */
public final class Appliance {
    private final Settings settings;
    private final ProcessRunner runner;
    private final Clock clock;
    private final java.util.function.Supplier<Zfs> zfsDriver;
    private Zfs zfs;

    public Appliance(Settings settings, ProcessRunner runner, Clock clock) {
        this(settings, runner, clock, () -> Zfs.detect(runner, settings.zfsCommand()));
    }

    /** As above, the ZFS driver taken from {@code zfsDriver} on first use (one detected already). */
    public Appliance(Settings settings, ProcessRunner runner, Clock clock, java.util.function.Supplier<Zfs> zfsDriver) {
        this.settings = settings;
        this.runner = runner;
        this.clock = clock;
        this.zfsDriver = zfsDriver;
    }

    public Settings settings() {
        return settings;
    }

    public Clock clock() {
        return clock;
    }

    public ProcessRunner runner() {
        return runner;
    }

    /** The ZFS driver, its dialect detected on first use. */
    public synchronized Zfs zfs() {
        if (zfs == null) {
            zfs = zfsDriver.get();
        }
        return zfs;
    }

    public SnapshotCatalog catalog() {
        return new SnapshotCatalog(zfs(), settings.datasets(), settings.snapshotPrefix());
    }

    public SnapshotService snapshots() {
        return new SnapshotService(zfs(), settings.datasets(), settings.snapshotPrefix(), settings.stateDir(), clock);
    }

    /** The retention policy, which prune and the daemon's prune job cannot do without. */
    public RetentionPolicy retentionPolicy() {
        return settings.retention()
                .orElseThrow(
                        () -> new ConfigException(
                                "no retention section in " + settings.file()
                                        + ": refusing to prune without a policy\nHINT: add retention: {keep_within: 24h, daily: 7, ...}"));
    }

    public PruneService pruning() {
        return new PruneService(zfs(), catalog(), settings.datasets(), retentionPolicy(), settings.timezone(), clock);
    }

    /** The audit log. */
    public AuditLog audit() {
        return new AuditLog(settings.auditLog());
    }

    /** The live standby: its connection, position and replay time. */
    public StandbyServer standby() {
        return new StandbyServer(settings.postgres(), runner);
    }
}

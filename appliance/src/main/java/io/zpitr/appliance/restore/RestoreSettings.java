// The configuration a restore reads, read and defaulted once.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.PostgresSettings;
import io.zpitr.appliance.config.Settings;
import io.zpitr.zfs.DatasetName;
import java.nio.file.Path;

/**
 * @param osUser      who runs the restored PostgreSQL ({@code postgres.os_user}, default postgres)
 * @param binDir      its binaries ({@code postgres.bin_dir})
 * @param liveData    the live standby's PGDATA ({@code postgres.data_dir}), found again in the clone
 * @param datasetRoot below which restores are cloned ({@code restore.dataset_root})
 * @param mountRoot   where they are mounted ({@code restore.mount_root})
 * @param firstPort   the first port tried ({@code restore.port}, default 6432)
 * @param dbUser      the database user the printed psql line connects as
 * @param walRoot     below which a restore keeps a {@code pg_wal} of its own off the clone
 *                    ({@code state_dir/restore-wal}; {@link RestoreClones})
 */
record RestoreSettings(
        String osUser,
        Path binDir,
        Path liveData,
        DatasetName datasetRoot,
        Path mountRoot,
        int firstPort,
        String dbUser,
        Path walRoot) {
    /** @throws ConfigException naming the missing key, when a restore cannot run without it */
    static RestoreSettings of(Settings settings) {
        PostgresSettings pg = settings.postgres();
        Settings.Restore r = settings.restore()
                .orElseThrow(() -> new ConfigException(
                        "restore.dataset_root and restore.mount_root are not configured in " + settings.file()));
        return new RestoreSettings(
                pg.osUser(),
                pg.binDir(),
                pg.requireDataDir(settings.file(), "a restore needs to find PGDATA in the clone"),
                r.datasetRoot(),
                r.mountRoot(),
                r.firstPort(),
                pg.standby().map(PostgresSettings.Connection::user).orElse("postgres"),
                settings.stateDir().resolve("restore-wal"));
    }

    DatasetName rootOf(String restoreName) {
        return datasetRoot.child(restoreName);
    }

    Path mountOf(String restoreName) {
        return mountRoot.resolve(restoreName);
    }

    /**
     * The folder of the restore's own {@code pg_wal} and spool off the clone: named after the
     * restore's dataset, so that two configurations sharing a state_dir (a replica's restores beside
     * the source's) never share one.
     */
    Path walHomeOf(String restoreName) {
        return walRoot.resolve(rootOf(restoreName).full().replace('/', '%'));
    }
}

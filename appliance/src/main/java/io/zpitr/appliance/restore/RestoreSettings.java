// The configuration a restore reads, read and defaulted once.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.config.ZpitrConfig;
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
 */
record RestoreSettings(String osUser, Path binDir, Path liveData, DatasetName datasetRoot, Path mountRoot,
                       int firstPort, String dbUser) {
    static final String DEFAULT_BIN_DIR = "/usr/lib/postgresql/15/bin";

    /** @throws IllegalArgumentException naming the missing key, when a restore cannot run without it */
    static RestoreSettings of(Settings settings) {
        ZpitrConfig.Postgres pg = settings.postgres().orElseThrow(() -> new IllegalArgumentException(
                "the postgres section is missing from " + settings.file()));
        ZpitrConfig.Restore r = settings.raw().restore();
        if (r == null || r.datasetRoot() == null || r.mountRoot() == null) {
            throw new IllegalArgumentException("restore.dataset_root and restore.mount_root are not configured in "
                    + settings.file());
        }
        if (pg.dataDir() == null) {
            throw new IllegalArgumentException("postgres.data_dir is not configured: a restore needs to find PGDATA in the clone");
        }
        Path folder = settings.file().getParent();
        return new RestoreSettings(pg.osUser() == null ? "postgres" : pg.osUser(),
                folder.resolve(pg.binDir() == null ? DEFAULT_BIN_DIR : pg.binDir()).normalize(),
                folder.resolve(pg.dataDir()).normalize(),
                DatasetName.of(r.datasetRoot()),
                folder.resolve(r.mountRoot()).normalize(),
                r.port() == null ? 6432 : r.port(),
                pg.standby() != null && pg.standby().user() != null ? pg.standby().user() : "postgres");
    }

    DatasetName rootOf(String restoreName) {
        return datasetRoot.child(restoreName);
    }

    Path mountOf(String restoreName) {
        return mountRoot.resolve(restoreName);
    }
}

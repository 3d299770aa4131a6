// The postgres section, read and defaulted once: the standby's binaries, data, OS user and connections.
package io.zpitr.appliance.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * @param binDir  {@code postgres.bin_dir}, default {@link #DEFAULT_BIN_DIR}, resolved against the config's folder
 * @param dataDir {@code postgres.data_dir}: the live standby's PGDATA, when configured
 * @param osUser  {@code postgres.os_user}, default {@code postgres}: who runs PostgreSQL and its restore_command
 * @param standby {@code postgres.standby}: how zpitr reaches the standby, when configured
 * @param primary {@code postgres.primary}: how zpitr reaches the primary, when configured
 */
public record PostgresSettings(
        Path binDir,
        Optional<Path> dataDir,
        String osUser,
        Optional<Connection> standby,
        Optional<Connection> primary) {
    /** Debian's PostgreSQL 15, the appliance's default major. */
    public static final Path DEFAULT_BIN_DIR = Path.of("/usr/lib/postgresql/15/bin");

    /**
     * One server's connection, defaulted as libpq does: a {@code host} starting with '/' is a
     * socket folder.
     *
     * @param passwordFile the file holding the password, when one is needed; read only when connecting
     */
    public record Connection(String host, int port, String user, String database, Optional<Path> passwordFile) {}

    /** No postgres section: the defaults. */
    static PostgresSettings defaults() {
        return new PostgresSettings(DEFAULT_BIN_DIR, Optional.empty(), "postgres", Optional.empty(), Optional.empty());
    }

    static PostgresSettings from(Path folder, ZpitrConfig.Postgres pg) {
        if (pg == null) {
            return defaults();
        }
        Path binDir = pg.binDir() == null ? DEFAULT_BIN_DIR : Settings.resolve(folder, pg.binDir());
        Optional<Path> dataDir = pg.dataDir() == null || pg.dataDir().isBlank()
                ? Optional.empty()
                : Optional.of(Settings.resolve(folder, pg.dataDir()));
        String osUser = pg.osUser() == null || pg.osUser().isBlank() ? "postgres" : pg.osUser();
        return new PostgresSettings(
                binDir, dataDir, osUser, connection(folder, pg.standby()), connection(folder, pg.primary()));
    }

    private static Optional<Connection> connection(Path folder, ZpitrConfig.Connection c) {
        if (c == null) {
            return Optional.empty();
        }
        return Optional.of(new Connection(
                c.host() == null ? "/var/run/postgresql" : c.host(),
                c.port() == null ? 5432 : c.port(),
                c.user() == null ? "postgres" : c.user(),
                c.database() == null ? "postgres" : c.database(),
                c.passwordFile() == null ? Optional.empty() : Optional.of(Settings.resolve(folder, c.passwordFile()))));
    }

    /** {@code postgres.data_dir}, which the command cannot do without. */
    public Path requireDataDir(Path configFile, String why) {
        return dataDir.orElseThrow(() -> new ConfigException("postgres.data_dir is not configured in " + configFile
                + ": " + why + "\nHINT: set postgres.data_dir to the standby's PGDATA"));
    }
}

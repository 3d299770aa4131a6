// Opens PgJDBC connections from the configuration's connection sections, TCP or Unix socket.
package io.zpitr.appliance.postgres;

import io.zpitr.appliance.config.ZpitrConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Connections to the standby or the primary. A {@code host} starting with '/' is a socket folder
 * (PostgreSQL's convention). A password, when needed, comes from {@code password_file}; it goes
 * to PgJDBC in memory, never into a URL, an argv or a log line.
 */
public final class PgConnections {
    private PgConnections() {
    }

    public static Connection open(ZpitrConfig.Connection c, Path configFolder, String applicationName) throws SQLException {
        String host = c.host() == null ? "/var/run/postgresql" : c.host();
        int port = c.port() == null ? 5432 : c.port();
        String database = c.database() == null ? "postgres" : c.database();
        Properties props = new Properties();
        props.setProperty("user", c.user() == null ? "postgres" : c.user());
        props.setProperty("ApplicationName", applicationName);
        props.setProperty("connectTimeout", "10");
        props.setProperty("options", "-c statement_timeout=30000");
        if (c.passwordFile() != null) {
            Path file = configFolder.resolve(c.passwordFile());
            try {
                props.setProperty("password", Files.readString(file).strip());
            } catch (IOException e) {
                throw new SQLException("cannot read password_file " + file + ": " + e.getMessage(), e);
            }
        }
        String url;
        if (host.startsWith("/")) {
            props.setProperty("socketFactory", UnixSocketFactory.class.getName());
            props.setProperty("socketFactoryArg", Path.of(host, ".s.PGSQL." + port).toString());
            url = "jdbc:postgresql://localhost:" + port + "/" + database;
        } else {
            url = "jdbc:postgresql://" + host + ":" + port + "/" + database;
        }
        return DriverManager.getConnection(url, props);
    }
}

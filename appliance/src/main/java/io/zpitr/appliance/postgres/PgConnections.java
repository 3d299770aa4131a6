// Opens PgJDBC connections from the configuration's connection sections, TCP or Unix socket.
package io.zpitr.appliance.postgres;

import io.zpitr.appliance.config.PostgresSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
    private PgConnections() {}

    public static Connection open(PostgresSettings.Connection c, String applicationName) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", c.user());
        props.setProperty("ApplicationName", applicationName);
        props.setProperty("connectTimeout", "10");
        props.setProperty("options", "-c statement_timeout=30000");
        if (c.passwordFile().isPresent()) {
            Path file = c.passwordFile().get();
            try {
                props.setProperty(
                        "password",
                        Files.readString(file, StandardCharsets.UTF_8).strip());
            } catch (IOException e) {
                throw new SQLException("cannot read password_file " + file + ": " + e.getMessage(), e);
            }
        }
        String url;
        if (c.host().startsWith("/")) {
            props.setProperty("socketFactory", UnixSocketFactory.class.getName());
            props.setProperty(
                    "socketFactoryArg",
                    Path.of(c.host(), ".s.PGSQL." + c.port()).toString());
            url = "jdbc:postgresql://localhost:" + c.port() + "/" + c.database();
        } else {
            url = "jdbc:postgresql://" + c.host() + ":" + c.port() + "/" + c.database();
        }
        return DriverManager.getConnection(url, props);
    }
}

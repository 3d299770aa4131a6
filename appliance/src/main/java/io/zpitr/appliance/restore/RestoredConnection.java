// How to reach a restored instance: its socket folder, port and users, and PostgreSQL's client programs for it.
package io.zpitr.appliance.restore;

import io.zpitr.process.Command;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Client programs run as {@code postgres.os_user}, as the restore itself talks to its instance: the
 * restored cluster's {@code pg_hba.conf} is the standby's, which on Debian lets the local
 * superuser in by peer authentication only.
 *
 * @param osUser    the OS user the instance runs as
 * @param binDir    PostgreSQL's binaries
 * @param socketDir its Unix socket folder
 * @param port      its port
 * @param dbUser    the database user to connect as
 */
public record RestoredConnection(String osUser, Path binDir, Path socketDir, int port, String dbUser) {
    /**
     * A client program ({@code psql}, {@code pg_amcheck}) pointed at the instance, with {@code args} after the
     * connection options.
     */
    public Command client(String program, Duration timeout, String... args) {
        List<String> argv = new ArrayList<>(List.of(
                binDir.resolve(program).toString(),
                "-h",
                socketDir.toString(),
                "-p",
                Integer.toString(port),
                "-U",
                dbUser));
        argv.addAll(List.of(args));
        return Command.of(RestoredPostgres.asUser(osUser, argv.toArray(String[]::new)))
                .timeout(timeout);
    }

    /** One SQL statement in {@code database}, unaligned, tuples only, stopping at the first error. */
    public Command psql(String database, String sql, Duration timeout) {
        return client("psql", timeout, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql);
    }
}

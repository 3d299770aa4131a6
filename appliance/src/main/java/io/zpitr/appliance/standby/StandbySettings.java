// The text a standby's (or a restored instance's) configuration is made of: conninfo, pgpass lines, setting values,
// restore_command.
package io.zpitr.appliance.standby;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Pure formatting, one escaping rule per consumer: libpq's conninfo and passfile, PostgreSQL's
 * configuration files, and the shell PostgreSQL runs {@code restore_command} with. Kept apart
 * from the builder so that every rule is tested without a server.
 */
public final class StandbySettings {
    /** Words the shell takes as they are; anything else is single-quoted. */
    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./+:@=,-]+");
    /** Conninfo values that need no quoting. */
    private static final Pattern CONNINFO_SAFE = Pattern.compile("[A-Za-z0-9_./:-]+");

    private StandbySettings() {}

    /**
     * One line of a libpq password file: {@code host:port:*:user:password}, with {@code \} and
     * {@code :} escaped. A socket folder matches as {@code localhost}, as libpq looks it up. Any
     * database: a physical replication connection matches the database field {@code replication},
     * which {@code *} covers.
     */
    static String pgpassLine(String host, int port, String user, String password) {
        String pgpassHost = host.startsWith("/") ? "localhost" : host;
        return pgpassField(pgpassHost) + ":" + port + ":*:" + pgpassField(user) + ":" + pgpassField(password) + "\n";
    }

    private static String pgpassField(String value) {
        return value.replace("\\", "\\\\").replace(":", "\\:");
    }

    /** A libpq connection string from keywords and values, in the given order. */
    static String conninfo(Map<String, String> keywords) {
        StringBuilder s = new StringBuilder();
        keywords.forEach((k, v) -> {
            if (s.length() > 0) {
                s.append(' ');
            }
            s.append(k).append('=');
            if (!v.isEmpty() && CONNINFO_SAFE.matcher(v).matches()) {
                s.append(v);
            } else {
                s.append('\'')
                        .append(v.replace("\\", "\\\\").replace("'", "\\'"))
                        .append('\'');
            }
        });
        return s.toString();
    }

    /**
     * A string literal for postgresql.conf, postgresql.auto.conf or recovery.conf: quotes doubled,
     * backslashes escaped (the configuration scanner reads backslash escapes).
     */
    public static String confValue(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /**
     * {@code restore_command}: the launcher and the configuration as shell words, with {@code %}
     * doubled (PostgreSQL replaces {@code %f}, {@code %p}, {@code %r} and {@code %%} before the
     * shell sees the line).
     */
    public static String restoreCommand(Path launcher, Path config) {
        return percent(shellWord(launcher.toString())) + " --config " + percent(shellWord(config.toString()))
                + " wal-fetch %f %p";
    }

    /** {@link #restoreCommand(Path, Path)} with a spool of its own, a restore's, in {@code ZPITR_SPOOL_DIR}. */
    public static String restoreCommand(Path launcher, Path config, Path spool) {
        return "ZPITR_SPOOL_DIR=" + percent(shellWord(spool.toString())) + " " + restoreCommand(launcher, config);
    }

    /** A word for {@code sh -c}: as it is when harmless, else in single quotes. */
    static String shellWord(String word) {
        if (SHELL_SAFE.matcher(word).matches()) {
            return word;
        }
        return "'" + word.replace("'", "'\\''") + "'";
    }

    private static String percent(String s) {
        return s.replace("%", "%%");
    }

    /** Lines {@code name = 'value'} for a configuration file. */
    public static String confLines(Map<String, String> settings) {
        StringBuilder s = new StringBuilder();
        settings.forEach(
                (k, v) -> s.append(k).append(" = ").append(confValue(v)).append('\n'));
        return s.toString();
    }
}

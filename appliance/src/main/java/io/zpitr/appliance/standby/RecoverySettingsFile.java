// Writes a data directory's recovery settings the way its PostgreSQL major reads them, for standby init and restore
// alike.
package io.zpitr.appliance.standby;

import io.zpitr.appliance.postgres.OsUser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * PostgreSQL 12 and later read recovery settings from the ordinary configuration files and are put
 * into recovery by a signal file ({@code standby.signal}: stay a standby; {@code recovery.signal}:
 * recover to a target, then end recovery). 11 and older read them from {@code recovery.conf}, where
 * {@code standby_mode = on} makes a standby. Server settings go to {@code postgresql.auto.conf} in
 * both, appended: the primary's own ALTER SYSTEM settings stay, and for the same name the last line
 * wins. Every file written is private to the server's OS user (0600), as PostgreSQL makes its own.
 */
public final class RecoverySettingsFile {
    /** What the server does with the settings. */
    public enum Mode {
        STANDBY,
        TARGETED_RECOVERY
    }

    private RecoverySettingsFile() {}

    /**
     * Writes the settings into {@code pgdata} for {@code major}.
     *
     * @param stamp    a comment line saying who wrote them (without {@code #} and newline)
     * @param osUser   the server's OS user, who gets the files, when we are someone else (root)
     * @return the files written
     */
    public static List<Path> write(
            Path pgdata,
            int major,
            Mode mode,
            Map<String, String> recovery,
            Map<String, String> server,
            String stamp,
            Optional<String> osUser)
            throws IOException {
        List<Path> written = new ArrayList<>();
        String comment = "# " + stamp + "\n";
        Map<String, String> auto = new LinkedHashMap<>();
        if (major >= 12) {
            Path signal = pgdata.resolve(mode == Mode.STANDBY ? "standby.signal" : "recovery.signal");
            writePrivate(signal, "", osUser);
            written.add(signal);
            auto.putAll(recovery);
        } else {
            Map<String, String> conf = new LinkedHashMap<>();
            if (mode == Mode.STANDBY) {
                conf.put("standby_mode", "on");
            }
            conf.putAll(recovery);
            Path file = pgdata.resolve("recovery.conf");
            writePrivate(file, comment + StandbySettings.confLines(conf), osUser);
            written.add(file);
        }
        auto.putAll(server);
        Path autoConf = pgdata.resolve("postgresql.auto.conf");
        boolean existed = Files.exists(autoConf);
        String before = existed ? Files.readString(autoConf) : "";
        String separator = before.isEmpty() || before.endsWith("\n") ? "" : "\n";
        if (!existed) {
            writePrivate(autoConf, "", osUser);
        }
        Files.writeString(
                autoConf,
                separator + comment + StandbySettings.confLines(auto),
                StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        written.add(autoConf);
        return written;
    }

    /** Removes what makes a copied data directory recover or follow a primary: the live standby's signal files. */
    public static void removeRecoveryFiles(Path pgdata) throws IOException {
        for (String f : List.of("standby.signal", "recovery.signal", "recovery.conf")) {
            Files.deleteIfExists(pgdata.resolve(f));
        }
    }

    /** A file only {@code osUser} may read: created 0600 and given to it before anything is written. */
    private static void writePrivate(Path file, String content, Optional<String> osUser) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        if (osUser.isPresent() && OsUser.isOther(osUser.get())) {
            OsUser.giveTo(osUser.get(), file);
        }
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }
}

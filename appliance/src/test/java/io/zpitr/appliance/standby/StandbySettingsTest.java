package io.zpitr.appliance.standby;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each consumer's escaping rule: libpq's passfile and conninfo, PostgreSQL's config files, restore_command's shell. */
class StandbySettingsTest {
    @Test
    void pgpassEscapesColonsAndBackslashesAndMatchesSocketsAsLocalhost() {
        assertEquals(
                "192.0.2.10:5432:*:replica:a\\:b\\\\c\n",
                StandbySettings.pgpassLine("192.0.2.10", 5432, "replica", "a:b\\c"));
        assertEquals(
                "localhost:5433:*:replica:pw\n",
                StandbySettings.pgpassLine("/var/run/postgresql", 5433, "replica", "pw"));
    }

    @Test
    void conninfoQuotesOnlyWhatNeedsIt() {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("host", "192.0.2.10");
        k.put("port", "5432");
        k.put("application_name", "vm 1");
        k.put("passfile", "/var/lib/zpitr/it's");
        assertEquals(
                "host=192.0.2.10 port=5432 application_name='vm 1' passfile='/var/lib/zpitr/it\\'s'",
                StandbySettings.conninfo(k));
    }

    @Test
    void configValuesDoubleQuotesAndEscapeBackslashes() {
        assertEquals("'it''s \\\\ here'", StandbySettings.confValue("it's \\ here"));
        assertEquals(
                "primary_conninfo = 'host=a'\nhot_standby = 'on'\n",
                StandbySettings.confLines(new LinkedHashMap<>(Map.of("primary_conninfo", "host=a")))
                        + "hot_standby = 'on'\n");
    }

    @Test
    void restoreCommandQuotesForTheShellAndDoublesPercentSigns() {
        assertEquals(
                "/opt/zpitr/bin/zpitr --config /etc/zpitr/zpitr.yaml wal-fetch %f %p",
                StandbySettings.restoreCommand(Path.of("/opt/zpitr/bin/zpitr"), Path.of("/etc/zpitr/zpitr.yaml")));
        assertEquals(
                "'/opt/my zpitr/bin/zpitr' --config '/etc/zpitr/100%%.yaml' wal-fetch %f %p",
                StandbySettings.restoreCommand(Path.of("/opt/my zpitr/bin/zpitr"), Path.of("/etc/zpitr/100%.yaml")));
        assertEquals("'/tmp/o'\\''brien'", StandbySettings.shellWord("/tmp/o'brien"));
    }

    @Test
    void aRestoresRestoreCommandNamesItsSpoolAsAShellWordToo() {
        assertEquals(
                "ZPITR_SPOOL_DIR=/tank/restore/r1/data/pgdata/pg_wal/zpitr-spool /opt/zpitr/bin/zpitr --config "
                        + "/etc/zpitr/zpitr.yaml wal-fetch %f %p",
                StandbySettings.restoreCommand(
                        Path.of("/opt/zpitr/bin/zpitr"),
                        Path.of("/etc/zpitr/zpitr.yaml"),
                        Path.of("/tank/restore/r1/data/pgdata/pg_wal/zpitr-spool")));
        assertEquals(
                "ZPITR_SPOOL_DIR='/mnt/drill $1/100%%' /opt/zpitr/bin/zpitr --config /etc/zpitr/zpitr.yaml wal-fetch %f %p",
                StandbySettings.restoreCommand(
                        Path.of("/opt/zpitr/bin/zpitr"),
                        Path.of("/etc/zpitr/zpitr.yaml"),
                        Path.of("/mnt/drill $1/100%")));
    }
}

// The config read beside picocli's parse is the one the parse names, and fails as reading it in line would.
package io.zpitr.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.appliance.config.Settings;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.Zfs;
import io.zpitr.zfs.ZfsDialect;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EarlyConfigTest {
    @TempDir
    Path dir;

    private static final Path EXAMPLE = Path.of("..", "config", "zpitr.example.yaml");

    @Test
    void theFileTheCommandLineNamesIsReadAsInLine() {
        for (String[] args : new String[][] {
            {"--config", EXAMPLE.toString(), "restore", "--immediate"}, {"--config=" + EXAMPLE, "restores"}
        }) {
            EarlyConfig early = EarlyConfig.start(args, Map.of()).orElseThrow();
            Settings read = early.settingsOf(EXAMPLE).orElseThrow();
            Settings inLine = ConfigLoader.load(EXAMPLE);
            assertEquals(inLine.file(), read.file());
            assertEquals(inLine.datasets(), read.datasets());
            assertEquals(inLine.archive().sources(), read.archive().sources());
        }
    }

    @Test
    void withoutTheOptionTheEnvironmentOrTheDefaultNamesIt() {
        EarlyConfig fromEnv = EarlyConfig.start(new String[] {"list"}, Map.of("ZPITR_CONFIG", EXAMPLE.toString()))
                .orElseThrow();
        assertTrue(fromEnv.settingsOf(EXAMPLE).isPresent());
        EarlyConfig byDefault =
                EarlyConfig.start(new String[] {"list"}, Map.of()).orElseThrow();
        // Another file than the one the parse locates: not taken, the command reads its own.
        assertEquals(Optional.empty(), byDefault.settingsOf(EXAMPLE));
        assertEquals(Optional.empty(), byDefault.zfsOf(EXAMPLE));
    }

    @Test
    void aConfigThatDoesNotLoadFailsWithTheSameMessage() throws Exception {
        Path bad = dir.resolve("zpitr.yaml");
        Files.writeString(bad, "timezone: UTC\narchive:\n  conect_timeout: 2s\n");
        EarlyConfig early = EarlyConfig.start(new String[] {"--config", bad.toString(), "restores"}, Map.of())
                .orElseThrow();
        ConfigException failed = assertThrows(ConfigException.class, () -> early.settingsOf(bad));
        ConfigException inLine = assertThrows(ConfigException.class, () -> ConfigLoader.load(bad));
        assertEquals(inLine.getMessage(), failed.getMessage());
        assertSame(failed, assertThrows(ConfigException.class, () -> early.settingsOf(bad)));
        // ... and the command exits as it did: 2, the key and its line named.
        StringWriter err = new StringWriter();
        int code = Main.run(
                new String[] {"--config", bad.toString(), "restores"},
                new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true));
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("line 3: unknown key 'conect_timeout'"), err.toString());
    }

    @Test
    void nothingIsReadForHelpDemoOrNoCommand() {
        assertEquals(Optional.empty(), EarlyConfig.start(new String[] {}, Map.of()));
        assertEquals(Optional.empty(), EarlyConfig.start(new String[] {"--help"}, Map.of()));
        assertEquals(Optional.empty(), EarlyConfig.start(new String[] {"help", "restore"}, Map.of()));
        assertEquals(Optional.empty(), EarlyConfig.start(new String[] {"demo"}, Map.of()));
        assertEquals(Optional.empty(), EarlyConfig.start(new String[] {"--", "restore"}, Map.of()));
    }

    @Test
    void theZfsDriverIsDetectedEarlyOnlyForARestoreOrADrill() {
        EarlyConfig list = EarlyConfig.start(new String[] {"--config", EXAMPLE.toString(), "list"}, Map.of())
                .orElseThrow();
        assertTrue(list.settingsOf(EXAMPLE).isPresent());
        assertEquals(Optional.empty(), list.zfsOf(EXAMPLE));
    }

    @Test
    void theZfsCommandTheConfigNamesIsTheOneDetected() throws Exception {
        // `zfs version` with the default command runs before the config is read; a config naming
        // another command gets that one's answer, never the default's.
        Path fake = dir.resolve("zfs-openzfs");
        Files.writeString(fake, "#!/bin/sh\necho zfs-2.2.2-1\necho zfs-kmod-2.2.2-1\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path config = dir.resolve("zpitr.yaml");
        Files.writeString(config, Files.readString(EXAMPLE).replace("command: zfs ", "command: " + fake + " "));
        EarlyConfig named = EarlyConfig.start(
                        new String[] {"--config", config.toString(), "restore", "--latest"}, Map.of())
                .orElseThrow();
        assertEquals(fake.toString(), named.settingsOf(config).orElseThrow().zfsCommand());
        assertEquals(ZfsDialect.OPENZFS, named.zfsOf(config).orElseThrow().dialect());

        // The default command: the early probe's answer is what detecting in line gives.
        EarlyConfig usual = EarlyConfig.start(
                        new String[] {"--config", EXAMPLE.toString(), "restore", "--latest"}, Map.of())
                .orElseThrow();
        Optional<ZfsDialect> inLine;
        try {
            inLine = Optional.of(Zfs.detect(new ProcessRunner(), "zfs").dialect());
        } catch (RuntimeException e) {
            inLine = Optional.empty(); // no ZFS here: the early detection gives nothing either
        }
        assertEquals(inLine, usual.zfsOf(EXAMPLE).map(Zfs::dialect));
    }
}

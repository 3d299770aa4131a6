package io.zpitr.appliance.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path f = dir.resolve("zpitr.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void theExampleConfigLoadsWithEveryKey() {
        Path example = Path.of("..", "config", "zpitr.example.yaml");
        Settings s = ConfigLoader.load(example);
        assertEquals(ZoneId.of("UTC"), s.timezone());
        assertEquals("tank/pg/data", s.datasets().get(0).full());
        assertEquals(2, s.archive().sources().size());
        assertEquals(Duration.ofSeconds(1), s.archive().connectTimeout());
        assertEquals(Duration.ofSeconds(60), s.archive().downFor());
        assertEquals(8, s.archive().prefetch());
        Settings.Source host = s.archive().sources().get(1);
        assertEquals("192.0.2.25", host.host());
        assertEquals(java.util.List.of("sftp", "scp"), host.transports());
    }

    @Test
    void anUnknownKeyIsNamedWithItsLine() throws IOException {
        Path f = write("timezone: UTC\narchive:\n  connect_timeout: 1s\n  conect_timeout: 2s\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f));
        assertTrue(e.getMessage().contains("line 4: unknown key 'conect_timeout' in archive"), e.getMessage());
        assertTrue(e.getMessage().contains("connect_timeout"), "the hint lists the known keys: " + e.getMessage());
    }

    @Test
    void badValuesAreRefusedWithTheirKey() throws IOException {
        String m = message("archive:\n  down_for: soon\n");
        assertTrue(m.contains("'soon' is not a duration") && m.contains("down_for"), m);
        assertTrue(message("timezone: Mars/Olympus\n").contains("timezone 'Mars/Olympus'"));
        assertTrue(message("zfs:\n  datasets: [\"tank/a;rm -rf /\"]\n").contains("invalid dataset name"));
        assertTrue(message("archive:\n  sources:\n    - {name: h, type: ssh, host: h, user: u, path: '/a/$(id)',"
                        + " identity_file: k, known_hosts: kh}\n")
                .contains("path '/a/$(id)'"));
        assertTrue(message(
                        "archive:\n  sources:\n    - {name: a, type: local, path: /x}\n    - {name: a, type: local, path: /y}\n")
                .contains("'a' is used twice"));
        assertTrue(message("archive:\n  sources:\n    - {name: a, type: ftp, path: /x}\n")
                .contains("type must be 'local' or 'ssh'"));
        assertTrue(message("timezone: UTC\n state_dir: : x\n").contains("not valid YAML"));
    }

    @Test
    void drillProveWithinIsAPeriodAboveZeroOrEmpty() throws IOException {
        String m = message("drill:\n  prove_within: monthly\n");
        assertTrue(m.contains("drill.prove_within: 'monthly' is not a duration"), m);
        assertTrue(message("drill:\n  prove_within: 0d\n").contains("drill.prove_within must be more than 0"));
        assertEquals(
                java.util.Optional.of(Duration.ofDays(30)),
                ConfigLoader.load(write("drill:\n  prove_within: 30d\n")).drillProveWithin());
        assertEquals(
                java.util.Optional.empty(),
                ConfigLoader.load(write("drill:\n  prove_within: \"\"\n")).drillProveWithin());
        assertEquals(
                java.util.Optional.empty(),
                ConfigLoader.load(write("timezone: UTC\n")).drillProveWithin());
    }

    @Test
    void relativePathsAreRelativeToTheConfigFile() throws IOException {
        Path f = write("state_dir: state\narchive:\n  sources:\n    - {name: nfs, type: local, path: ../arch}\n");
        Settings s = ConfigLoader.load(f);
        assertEquals(dir.resolve("state"), s.stateDir());
        assertEquals(
                dir.getParent().resolve("arch"), s.archive().sources().get(0).path());
        assertEquals(dir.resolve("state/spool"), s.archive().spoolDir());
    }

    @Test
    void aMissingFileSaysWhereToLook() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir.resolve("nope.yaml")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains("HINT"), e.getMessage());
    }

    private String message(String yaml) throws IOException {
        Path f = write(yaml);
        return assertThrows(ConfigException.class, () -> ConfigLoader.load(f)).getMessage();
    }
}

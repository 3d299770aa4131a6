package io.zpitr.appliance.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.appliance.config.Settings;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.DatasetName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** replication.targets: accepted as documented, refused with the key and value named, quoted for the remote shell. */
class ReplicationTargetsTest {
    @TempDir
    Path dir;

    static final String SSH = """
            replication:
              targets:
                - name: dr1
                  type: ssh
                  host: 192.0.2.40
                  user: root
                  identity_file: keys/id_ed25519
                  known_hosts: keys/known_hosts
                  dataset_root: backup/zpitr
            """;

    Settings load(String yaml) throws IOException {
        Path file = dir.resolve("zpitr.yaml");
        Files.writeString(file, "zfs:\n  datasets: [tank/pg/data, tank/pg/tblspc1]\n" + yaml);
        return ConfigLoader.load(file);
    }

    ConfigException refused(String yaml) {
        return assertThrows(ConfigException.class, () -> load(yaml));
    }

    @Test
    void anSshTargetWithDefaults() throws IOException {
        ReplicationTarget t = load(SSH).replication().select("dr1").get(0);
        assertEquals(22, t.port());
        assertEquals(dir.resolve("keys/id_ed25519"), t.identityFile());
        assertEquals(DatasetName.of("backup/zpitr/pg/data"), t.landing(DatasetName.of("tank/pg/data")));
        assertEquals("zpitr-repl-dr1", t.cursorTag().value());
        assertEquals(ReplicationTargets.DEFAULT_IO_TIMEOUT, t.ioTimeout());
    }

    @Test
    void shellMetacharactersAndBadValuesAreRefusedByKey() {
        assertTrue(refused(SSH.replace("name: dr1", "name: \"dr1;reboot\""))
                .getMessage()
                .contains("replication.targets[0].name"));
        assertTrue(refused(SSH.replace("host: 192.0.2.40", "host: \"a b\""))
                .getMessage()
                .contains("host 'a b'"));
        assertTrue(refused(SSH.replace("user: root", "user: \"-oProxyCommand=x\""))
                .getMessage()
                .contains("user"));
        assertTrue(refused(SSH.replace("backup/zpitr", "\"backup/$(id)\""))
                .getMessage()
                .contains("dataset_root"));
        assertTrue(refused(SSH.replace("keys/known_hosts", "\"keys/known hosts\""))
                .getMessage()
                .contains("known_hosts"));
        assertTrue(refused(SSH.replace("      dataset_root: backup/zpitr\n", ""))
                .getMessage()
                .contains("'dataset_root' is required"));
        assertTrue(
                refused(SSH.replace("type: ssh", "type: ftp")).getMessage().contains("type must be 'ssh' or 'local'"));
        assertTrue(refused(SSH + "    - {name: dr1, type: local, dataset_root: other/x}\n")
                .getMessage()
                .contains("used twice"));
        assertTrue(
                refused(SSH.replace("dataset_root: backup/zpitr", "dataset_root: backup/zpitr\n      ssh_options: x"))
                        .getMessage()
                        .contains("unknown key 'ssh_options'"));
    }

    @Test
    void aLocalTargetMayNotOverlapTheSourceDatasets() {
        assertTrue(refused("replication:\n  targets:\n    - {name: here, type: local, dataset_root: tank/pg}\n")
                .getMessage()
                .contains("overlaps the source dataset"));
    }

    @Test
    void anUnknownTargetNamesTheConfiguredOnes() throws IOException {
        ReplicationTargets targets = load(SSH).replication();
        io.zpitr.appliance.error.ZpitrException e =
                assertThrows(io.zpitr.appliance.error.ZpitrException.class, () -> targets.select("dr9"));
        assertEquals(2, e.error().exitStatus());
        assertTrue(
                e.getMessage().contains("unknown replication target 'dr9'")
                        && e.getMessage().contains("dr1"),
                e.getMessage());
        assertThrows(ConfigException.class, () -> load("").replication().select(null));
    }

    @Test
    void theRemoteCommandIsQuotedArgumentByArgumentAndTheHostKeyPinned() throws IOException {
        ReplicationTarget t = load(SSH).replication().all().get(0);
        List<String> argv =
                new SshZfsLauncher(t, new ProcessRunner(), null).argv(List.of("zfs", "set", "zpitr:label=it's", "a@b"));
        assertEquals("'zfs' 'set' 'zpitr:label=it'\\''s' 'a@b'", argv.get(argv.size() - 1));
        assertTrue(
                argv.containsAll(List.of(
                        "StrictHostKeyChecking=yes",
                        "BatchMode=yes",
                        "IdentitiesOnly=yes",
                        "UserKnownHostsFile=" + dir.resolve("keys/known_hosts"))),
                argv.toString());
        assertTrue(argv.stream().noneMatch(a -> a.startsWith("ControlPath")), "no shared connection without a path");

        // Several commands in one session: each argument quoted, the commands joined for the shell there.
        List<String> sequence = new SshZfsLauncher(t, new ProcessRunner(), null)
                .argvOfSequence(List.of(
                        List.of("zfs", "set", "zpitr:label=it's", "a@b"), List.of("zfs", "set", "zpitr:x=1", "a@b")))
                .orElseThrow();
        assertEquals(
                "'zfs' 'set' 'zpitr:label=it'\\''s' 'a@b' && 'zfs' 'set' 'zpitr:x=1' 'a@b'",
                sequence.get(sequence.size() - 1));
        assertEquals(argv.subList(0, argv.size() - 1), sequence.subList(0, sequence.size() - 1), "the same options");
    }
}

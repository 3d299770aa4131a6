package io.zpitr.appliance.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.cli.Main;
import io.zpitr.fixtures.SshServer;
import io.zpitr.fixtures.ZfsPool;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** zpitr check against a real pool and real OpenSSH hosts, one of them dead. */
class CheckCommandTest {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.create();

    @TempDir
    Path dir;

    private static String source(String name, SshServer h) {
        return "    - {name: " + name + ", type: ssh, host: " + h.address() + ", port: " + h.port() + ", user: "
                + h.user() + ", path: " + h.dataDir() + ", identity_file: " + h.identityFile() + ", known_hosts: "
                + h.knownHostsFile() + "}\n";
    }

    @Test
    void aDeadArchiveHostIsAFailWithAHintAndTheRestIsOk() throws Exception {
        POOL.zfs("create", POOL.name() + "/data");
        Files.createDirectories(dir.resolve("arch"));
        try (SshServer live = SshServer.builder().build().start();
                SshServer dead = SshServer.builder().build().start()) {
            dead.stop();
            Path config = dir.resolve("zpitr.yaml");
            Files.writeString(
                    config,
                    "state_dir: " + dir.resolve("state") + "\n"
                            + "zfs:\n  datasets: [" + POOL.name() + "/data]\n"
                            + "archive:\n  connect_timeout: 1s\n  sources:\n"
                            + "    - {name: nfs, type: local, path: " + dir.resolve("arch") + "}\n"
                            + source("host25", live) + source("host26", dead));
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Main.run(
                    new String[] {"--config", config.toString(), "check"},
                    new PrintWriter(out, true),
                    new PrintWriter(err, true));
            String text = out.toString();
            assertEquals(1, code, text + err);
            assertTrue(
                    text.lines().anyMatch(l -> l.startsWith("OK") && l.contains("zfs") && l.contains("ZFS_FUSE")),
                    text);
            assertTrue(
                    text.lines().anyMatch(l -> l.startsWith("OK") && l.contains("dataset " + POOL.name() + "/data")),
                    text);
            assertTrue(text.lines().anyMatch(l -> l.startsWith("OK") && l.contains("archive nfs (local)")), text);
            assertTrue(
                    text.lines()
                            .anyMatch(l -> l.startsWith("OK") && l.contains("archive host25") && l.contains("sftp")),
                    text);
            assertTrue(text.lines().anyMatch(l -> l.startsWith("FAIL") && l.contains("archive host26")), text);
            assertTrue(text.contains("HINT: is the host up and sshd listening?"), text);
            assertTrue(
                    text.lines()
                            .anyMatch(l -> l.startsWith("WARN") && l.contains("snapshots") && l.contains("none yet")),
                    text);
            assertTrue(text.lines().reduce((a, b) -> b).orElse("").startsWith("1 failed"), text);
        }
    }

    @Test
    void anInvalidConfigIsExitTwo() throws Exception {
        Path config = dir.resolve("zpitr.yaml");
        Files.writeString(config, "zfs:\n  datasets: [tank/a]\n  snapshot_prefx: x\n");
        StringWriter err = new StringWriter();
        int code = Main.run(
                new String[] {"--config", config.toString(), "check"},
                new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true));
        assertEquals(2, code);
        assertTrue(err.toString().contains("line 3: unknown key 'snapshot_prefx'"), err.toString());
    }
}

package io.zpitr.zfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The argv the driver builds, through a launcher, per dialect. The runner here only records: what
 * is under test is the command line, not ZFS (the real-pool tests prove the commands themselves).
 */
class ZfsLauncherTest {
    /** Records each argv and answers as told. */
    static final class RecordingRunner extends ProcessRunner {
        final List<List<String>> started = new ArrayList<>();
        int exit;
        String stderr = "";

        @Override
        public ProcessResult run(Command command) {
            started.add(command.argv());
            return new ProcessResult(command.argv(), exit, "", stderr, false, Duration.ZERO);
        }
    }

    static final ZfsLauncher WRAPPED = argv -> {
        List<String> all = new ArrayList<>(List.of("ssh", "host", "--"));
        all.add(String.join(" ", argv));
        return all;
    };

    static final List<SnapshotName> SNAPS =
            List.of(SnapshotName.parse("b/pg/data@s1"), SnapshotName.parse("b/pg/tbl@s1"));

    @Test
    void openZfsSetsEveryPropertyInOneCallThroughTheLauncher() {
        RecordingRunner runner = new RecordingRunner();
        new Zfs(runner, "zfs", ZfsDialect.OPENZFS, WRAPPED).setUserProperties(SNAPS, Map.of("zpitr:a", "1"));
        assertEquals(
                List.of(List.of("ssh", "host", "--", "zfs set zpitr:a=1 b/pg/data@s1 b/pg/tbl@s1")), runner.started);
    }

    @Test
    void zfsFuseSetsOnePropertyPerCallInTheOrderGiven() {
        RecordingRunner runner = new RecordingRunner();
        Map<String, String> props = new java.util.LinkedHashMap<>();
        props.put("zpitr:a", "1");
        props.put("zpitr:b", "2");
        new Zfs(runner, "zfs", ZfsDialect.ZFS_FUSE).setUserProperties(SNAPS, props);
        assertEquals(
                List.of(
                        List.of("zfs", "set", "zpitr:a=1", "b/pg/data@s1", "b/pg/tbl@s1"),
                        List.of("zfs", "set", "zpitr:b=2", "b/pg/data@s1", "b/pg/tbl@s1")),
                runner.started);
    }

    /** Wraps like {@link #WRAPPED} and also runs a sequence in one session, joined by {@code &&}. */
    static final ZfsLauncher SEQUENCING = new ZfsLauncher() {
        @Override
        public List<String> argv(List<String> zfsArgv) {
            return WRAPPED.argv(zfsArgv);
        }

        @Override
        public java.util.Optional<List<String>> argvOfSequence(List<List<String>> zfsArgvs) {
            return java.util.Optional.of(List.of(
                    "ssh",
                    "host",
                    "--",
                    String.join(
                            " && ",
                            zfsArgvs.stream().map(a -> String.join(" ", a)).toList())));
        }
    };

    @Test
    void zfsFuseOverALauncherThatSequencesSetsEveryPropertyInOneSessionInTheOrderGiven() {
        RecordingRunner runner = new RecordingRunner();
        Map<String, String> props = new java.util.LinkedHashMap<>();
        props.put("zpitr:a", "1");
        props.put("zpitr:b", "2");
        new Zfs(runner, "zfs", ZfsDialect.ZFS_FUSE, SEQUENCING).setUserProperties(SNAPS, props);
        assertEquals(
                List.of(List.of(
                        "ssh",
                        "host",
                        "--",
                        "zfs set zpitr:a=1 b/pg/data@s1 b/pg/tbl@s1 && zfs set zpitr:b=2 b/pg/data@s1 b/pg/tbl@s1")),
                runner.started);
        // One property: one command, no sequence.
        runner.started.clear();
        new Zfs(runner, "zfs", ZfsDialect.ZFS_FUSE, SEQUENCING).setUserProperties(SNAPS, Map.of("zpitr:a", "1"));
        assertEquals(
                List.of(List.of("ssh", "host", "--", "zfs set zpitr:a=1 b/pg/data@s1 b/pg/tbl@s1")), runner.started);
    }

    @Test
    void aFailedSequenceNamesEveryCommandOfItAndTheRemoteStderr() {
        RecordingRunner runner = new RecordingRunner();
        runner.exit = 1;
        runner.stderr = "cannot open 'b/pg/tbl@s1': dataset does not exist";
        Map<String, String> props = new java.util.LinkedHashMap<>();
        props.put("zpitr:a", "1");
        props.put("zpitr:b", "2");
        ZfsException e = assertThrows(
                ZfsException.class,
                () -> new Zfs(runner, "zfs", ZfsDialect.ZFS_FUSE, SEQUENCING).setUserProperties(SNAPS, props));
        assertTrue(e.getMessage().contains("dataset does not exist"), e.getMessage());
        assertEquals(
                List.of(
                        "zfs",
                        "set",
                        "zpitr:a=1",
                        "b/pg/data@s1",
                        "b/pg/tbl@s1",
                        "&&",
                        "zfs",
                        "set",
                        "zpitr:b=2",
                        "b/pg/data@s1",
                        "b/pg/tbl@s1"),
                e.argv());
    }

    @Test
    void aFailureNamesTheZfsCommandAndTheRemoteStderrNotTheWrapper() {
        RecordingRunner runner = new RecordingRunner();
        runner.exit = 255;
        runner.stderr = "ssh: connect to host 192.0.2.40 port 22: Connection refused";
        ZfsException e = assertThrows(
                ZfsException.class,
                () -> new Zfs(runner, "zfs", ZfsDialect.OPENZFS, WRAPPED)
                        .setUserProperties(SNAPS, Map.of("zpitr:a", "1")));
        assertTrue(e.getMessage().startsWith("zfs set zpitr:a=1"), e.getMessage());
        assertTrue(e.getMessage().contains("Connection refused"), e.getMessage());
        assertEquals(List.of("zfs", "set", "zpitr:a=1", "b/pg/data@s1", "b/pg/tbl@s1"), e.argv());
    }

    @Test
    void aPropertyValueWithAControlCharacterNeverReachesTheLauncher() {
        RecordingRunner runner = new RecordingRunner();
        assertThrows(
                IllegalArgumentException.class,
                () -> new Zfs(runner, "zfs", ZfsDialect.OPENZFS, WRAPPED)
                        .setUserProperties(SNAPS, Map.of("zpitr:a", "x\ny")));
        assertTrue(runner.started.isEmpty());
    }
}

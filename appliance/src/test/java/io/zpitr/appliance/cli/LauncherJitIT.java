package io.zpitr.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which JIT bin/zpitr gives a restore's JVM: C1 alone ({@code -XX:TieredStopAtLevel=1}) only for
 * {@code restore --immediate} with a WAL mirror configured, where no SSH decryption needs C2. The
 * launcher runs a copy of itself beside an empty jar, with a {@code java} on the PATH that records
 * its arguments: the launcher's choice is what is tested, not a JVM (and no class data sharing
 * archive of the real jar is touched).
 */
class LauncherJitIT {
    static final String C1_ONLY = "-XX:TieredStopAtLevel=1";
    final ProcessRunner runner = new ProcessRunner();

    @TempDir
    Path root;

    Path launcher;
    Path calls;
    Path withMirror;
    Path withoutMirror;

    @BeforeEach
    void launcherCopyAndJava() throws IOException {
        launcher = Files.createDirectories(root.resolve("bin")).resolve("zpitr");
        Files.copy(ZpitrProcess.LAUNCHER, launcher);
        Files.createFile(
                Files.createDirectories(root.resolve("appliance/target")).resolve("zpitr.jar"));
        calls = root.resolve("java-calls");
        Path java = Files.createDirectories(root.resolve("fake-bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"" + calls + "\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        withMirror = root.resolve("mirror.yaml");
        Files.writeString(
                withMirror,
                "archive:\n  # the daemon keeps it\n  mirror_dir: /var/lib/zpitr/wal-mirror\n  sources: []\n");
        withoutMirror = root.resolve("hosts.yaml");
        Files.writeString(withoutMirror, "archive:\n  # mirror_dir: /var/lib/zpitr/wal-mirror\n  sources: []\n");
    }

    /** The arguments of the launcher's last java call: the command's JVM. */
    String jvmOf(Map<String, String> env, String... args) throws IOException {
        Files.deleteIfExists(calls);
        List<String> argv = new java.util.ArrayList<>(List.of("bash", launcher.toString()));
        argv.addAll(List.of(args));
        Map<String, String> all = new HashMap<>(env);
        all.put("PATH", root.resolve("fake-bin") + ":" + System.getenv("PATH"));
        ProcessResult r = runner.run(Command.of(argv).environment(all));
        assertEquals(0, r.exitCode(), r.stderr());
        List<String> lines = Files.readAllLines(calls);
        String last = lines.get(lines.size() - 1);
        assertTrue(last.contains(" -jar "), last);
        return last;
    }

    @Test
    void anImmediateRestoreWithTheMirrorRunsC1Alone() throws IOException {
        assertTrue(jvmOf(Map.of(), "--config", withMirror.toString(), "restore", "--immediate", "--name", "a")
                .contains(C1_ONLY));
        assertTrue(jvmOf(Map.of(), "--config=" + withMirror, "restore", "--immediate")
                .contains(C1_ONLY));
        assertTrue(jvmOf(Map.of("ZPITR_CONFIG", withMirror.toString()), "restore", "--immediate")
                .contains(C1_ONLY));
    }

    @Test
    void anImmediateRestoreFromTheHostsGetsC2ForTheirDecryption() throws IOException {
        // A mirror_dir in a comment is no mirror.
        assertFalse(jvmOf(Map.of(), "--config", withoutMirror.toString(), "restore", "--immediate")
                .contains(C1_ONLY));
        assertFalse(jvmOf(
                        Map.of("ZPITR_CONFIG", withMirror.toString()),
                        "--config",
                        withoutMirror.toString(),
                        "restore",
                        "--immediate")
                .contains(C1_ONLY));
    }

    @Test
    void aRestoreToATargetAlwaysGetsC2AndAShortCommandC1() throws IOException {
        assertFalse(jvmOf(Map.of(), "--config", withMirror.toString(), "restore", "--to-time", "2026-12-04 10:00")
                .contains(C1_ONLY));
        assertTrue(jvmOf(Map.of(), "--config", withMirror.toString(), "list").contains(C1_ONLY));
    }
}

package io.zpitr.appliance.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The unit files pass systemd's own checker, with no warning. */
class UnitFilesTest {
    static final Path UNITS = Path.of("..", "systemd").toAbsolutePath().normalize();
    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void systemdAnalyzeVerifiesEveryUnit() throws Exception {
        List<String> argv = new ArrayList<>(List.of("systemd-analyze", "verify"));
        try (Stream<Path> files = Files.list(UNITS)) {
            for (Path unit : files.filter(p ->
                            p.toString().endsWith(".service") || p.toString().endsWith(".timer"))
                    .toList()) {
                // verify checks that ExecStart exists: point it at this checkout's launcher. And that
                // each man: page in Documentation= exists: zpitr's are installed by its package only
                // (DebPackageIT verifies the installed units with them).
                Path copy = dir.resolve(unit.getFileName());
                Files.writeString(
                        copy,
                        Files.readString(unit)
                                .replace("/usr/bin/zpitr", LAUNCHER.toString())
                                .replaceAll("man:zpitr[-a-z]*\\(1\\) ?", ""));
                argv.add(copy.toString());
            }
        }
        assertTrue(argv.size() >= 5, argv.toString());
        ProcessResult r = new ProcessRunner().run(Command.of(argv));
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("", r.stderr().strip(), "no warnings");
    }

    @Test
    void theDaemonUnitIsNotifyWithAWatchdogAfterZfs() throws Exception {
        String unit = Files.readString(UNITS.resolve("zpitr.service"));
        assertTrue(unit.contains("Type=notify"));
        assertTrue(unit.contains("WatchdogSec="));
        assertTrue(unit.contains("Restart=on-failure"));
        assertTrue(unit.contains("ConditionPathExists=/etc/zpitr/zpitr.yaml"), "never started before a config exists");
        assertTrue(unit.contains("After=zfs-fuse.service") && unit.contains("zfs-mount.service"));
        String dropIn = Files.readString(UNITS.resolve("postgresql@.service.d/zpitr-after-zfs.conf"));
        assertTrue(dropIn.contains("After=zfs-fuse.service") && dropIn.contains("zfs-mount.service"));
    }
}

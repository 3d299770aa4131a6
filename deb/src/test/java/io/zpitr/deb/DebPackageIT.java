// Installs the built zpitr .deb into a clean Debian bookworm container with apt, as an operator
// would, and checks what the operator would check, through to remove, purge and lintian.
package io.zpitr.deb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * One container, one life cycle: the tests run in order (install, use, remove, purge, lint), each
 * on the state the one before left. The container has only Debian's own archive as apt source
 * (the base image's, reached over the host's network), so the package's declared dependencies
 * are all that can satisfy it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DebPackageIT {
    static final String BASE_IMAGE =
            System.getenv().getOrDefault("ZPITR_TEST_BASE_IMAGE", "zpitr-test/debian:bookworm");
    static final String VERSION = System.getProperty("zpitr.version");
    /** Debian's form of the Maven version: "~SNAPSHOT" sorts before the release. */
    static final String DEB_VERSION = VERSION.replace("-SNAPSHOT", "~SNAPSHOT");

    static final Path ROOT =
            Path.of(System.getProperty("zpitr.root", "..")).toAbsolutePath().normalize();
    /** apt over the network on a loaded machine: generous, but bounded (coreutils timeout in the container). */
    static final String APT_TIMEOUT = "900";

    static final String CMD_TIMEOUT = "120";
    static final String UNITS = "/lib/systemd/system/";

    static GenericContainer<?> debian;
    static String debInContainer;

    @BeforeAll
    static void startCleanDebian() {
        Path deb = builtDeb();
        debInContainer = "/tmp/" + deb.getFileName();
        debian = new GenericContainer<>(DockerImageName.parse(BASE_IMAGE))
                .withNetworkMode("host") // Debian's mirror, as the host reaches it
                .withCommand("sleep", "infinity")
                .withCopyFileToContainer(MountableFile.forHostPath(deb), debInContainer);
        debian.start();
    }

    @AfterAll
    static void removeContainer() {
        if (debian != null) {
            debian.stop();
        }
    }

    /** The package this build's `package` phase wrote (its name from the build: -Dzpitr.deb). */
    static Path builtDeb() {
        Path deb = Path.of(System.getProperty("zpitr.deb", "target/zpitr_" + DEB_VERSION + "_all.deb"));
        assertTrue(Files.isRegularFile(deb), deb + " is missing: run `mvn package` in deb/ first");
        return deb;
    }

    @Test
    @Order(1)
    void aptInstallsTheDebWithItsDeclaredDependenciesAndStartsNothing() throws Exception {
        // Debian's PostgreSQL user, as on a standby: the package gives it the folders wal-fetch writes.
        ok(run("useradd", "--system", "--user-group", "--home-dir", "/var/lib/postgresql", "postgres"));
        ok(apt("update"));
        // The shared base image carries an sshd for other tests: without it, the install below must
        // bring openssh-client itself, as on a fresh Debian.
        ok(apt("purge", "--auto-remove", "openssh-server", "openssh-sftp-server", "openssh-client"));
        assertFalse(exists("/usr/bin/ssh"));
        ExecResult install = apt("install", "--no-install-recommends", debInContainer);
        ok(install);
        for (String pkg : List.of("zpitr", "openssh-client", "openjdk-17-jre-headless")) {
            assertTrue(
                    install.getStdout().lines().anyMatch(l -> l.matches("Setting up " + pkg + "(:amd64)? \\(.*")),
                    pkg + " installed:\n" + install.getStdout());
        }
        assertTrue(exists("/usr/bin/ssh") && exists("/usr/bin/scp"), "ssh and scp, for the archive hosts");

        String status = ok(run("dpkg-query", "-W", "-f", "${Status}|${Version}|${Depends}|${Recommends}", "zpitr"));
        assertTrue(status.startsWith("install ok installed|" + DEB_VERSION + "|"), status);
        assertTrue(status.contains("java17-runtime-headless") && status.contains("openssh-client"), status);
        assertTrue(status.contains("zfsutils-linux | zfs-fuse") && status.contains("postgresql-client"), status);
        assertTrue(status.contains("bash-builtins"), "recommended: the launcher's ln and rm as builtins: " + status);
        // What the Depends pulled in: a Java 17 runtime that runs.
        ExecResult java = run("java", "-version");
        ok(java);
        assertTrue(java.getStderr().contains("version \"17"), java.getStderr());

        assertEquals(
                "root root 755",
                ok(run("stat", "-c", "%U %G %a", "/var/lib/zpitr")).strip());
        for (String d : List.of("spool", "down", "counters")) {
            assertEquals(
                    "postgres postgres 750",
                    ok(run("stat", "-c", "%U %G %a", "/var/lib/zpitr/" + d)).strip(),
                    d);
        }
        // No unit enabled, no configuration written: the operator chooses the daemon or the timer.
        assertFalse(exists("/etc/zpitr/zpitr.yaml"));
        assertTrue(exists("/etc/zpitr/zpitr.yaml.example"));
        assertEquals(
                "/etc/zpitr/zpitr.yaml.example",
                ok(run("cat", "/var/lib/dpkg/info/zpitr.conffiles")).strip());
        String wants = run("find", "/etc/systemd/system", "-name", "zpitr*").getStdout();
        assertEquals("", wants.strip(), "no zpitr unit enabled");
    }

    @Test
    @Order(2)
    void theInstalledLauncherIsBinZpitrAndRunsTheInstalledJar() throws Exception {
        ExecResult version = run("zpitr", "--version");
        assertEquals("zpitr " + VERSION, ok(version).strip());
        assertEquals("", version.getStderr(), "no build, no message on first use");
        // The same launcher as the source tree's (its wal-fetch fast path is not a copy kept by hand).
        assertEquals(Files.readString(ROOT.resolve("bin/zpitr")), ok(run("cat", "/usr/bin/zpitr")));
        assertEquals("/usr/bin/zpitr", ok(run("which", "zpitr")).strip());
        assertTrue(exists("/usr/share/zpitr/zpitr.jar"));
        assertTrue(exists("/usr/share/doc/zpitr/docs/operations.md"));
    }

    @Test
    @Order(3)
    void manPagesCompletionAndUnitsWorkWithDebiansOwnTools() throws Exception {
        // The tools an operator uses on them (and lintian, for the last test): installed after zpitr,
        // so that zpitr's own installation above pulled in only its declared dependencies.
        ok(apt("install", "--no-install-recommends", "man-db", "systemd", "lintian"));

        assertEquals(
                "/usr/share/man/man1/zpitr.1.gz", ok(run("man", "-w", "zpitr")).strip());
        String page = ok(run("man", "-P", "cat", "zpitr"));
        assertTrue(page.contains("EXIT CODES") && page.contains("no source could be asked"), page);
        for (String command : List.of(
                "check",
                "status",
                "snapshot",
                "list",
                "prune",
                "hold",
                "release",
                "audit",
                "restore",
                "restores",
                "restore-drop",
                "standby",
                "daemon",
                "demo",
                "wal-fetch")) {
            assertTrue(
                    page.lines().anyMatch(l -> l.strip().equals(command)), "zpitr(1) lists " + command + ":\n" + page);
            assertEquals(
                    "/usr/share/man/man1/zpitr-" + command + ".1.gz",
                    ok(run("man", "-w", "zpitr-" + command)).strip());
        }

        assertTrue(exists("/usr/share/bash-completion/completions/zpitr"));
        // What bash offers after "zpitr res<TAB>".
        String offered = ok(run(
                "bash",
                "-c",
                "source /usr/share/bash-completion/completions/zpitr"
                        + " && COMP_WORDS=(zpitr res) COMP_CWORD=1 && _complete_zpitr zpitr res zpitr 2>/dev/null"
                        + " ; printf '%s\\n' \"${COMPREPLY[@]}\""));
        assertEquals(
                List.of("restore", "restores", "restore-drop"),
                offered.strip().lines().toList());

        ExecResult verify = run(
                "systemd-analyze",
                "verify",
                UNITS + "zpitr.service",
                UNITS + "zpitr-snapshot.service",
                UNITS + "zpitr-snapshot.timer");
        ok(verify);
        assertEquals("", verify.getStderr().strip(), "no warnings");
        assertTrue(exists(UNITS + "postgresql@.service.d/zpitr-after-zfs.conf"));
        for (String unit : List.of("zpitr.service", "zpitr-snapshot.service")) {
            assertTrue(ok(run("cat", UNITS + unit)).contains("ExecStart=/usr/bin/zpitr "), unit);
        }
    }

    @Test
    @Order(4)
    void checkAgainstAConfigThatPointsAtNothingFailsClearly() throws Exception {
        debian.copyFileToContainer(Transferable.of("""
                zfs:
                  datasets: [nopool/pg/data]
                postgres:
                  bin_dir: /usr/lib/postgresql/15/bin
                  data_dir: /nopool/pg/data/pgdata
                  standby: {host: /nonexistent, port: 5432, user: postgres, database: postgres}
                archive:
                  sources:
                    - {name: nowhere, type: local, path: /srv/no-archive}
                """), "/etc/zpitr/zpitr.yaml");
        ExecResult check = run("zpitr", "check");
        // docs/exit-codes.md: 1, the operation failed; each failure on its own line with a HINT.
        assertEquals(1, check.getExitCode(), check.getStdout() + check.getStderr());
        String out = check.getStdout();
        assertTrue(out.contains("OK    config"), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("FAIL  zfs") && l.contains("cannot run 'zfs'")), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("FAIL  standby")), out);
        assertTrue(
                out.lines().anyMatch(l -> l.startsWith("FAIL  archive nowhere") && l.contains("/srv/no-archive")), out);
        assertTrue(out.contains("HINT: install ZFS"), out);
        assertTrue(out.contains("3 failed"), out);

        // docs/exit-codes.md: 2, a configuration error, the key named with its line.
        debian.copyFileToContainer(Transferable.of("bogus: 1\n"), "/tmp/bad.yaml");
        ExecResult bad = run("zpitr", "--config", "/tmp/bad.yaml", "check");
        assertEquals(2, bad.getExitCode(), bad.getStdout() + bad.getStderr());
        assertTrue(bad.getStderr().contains("line 1: unknown key 'bogus'"), bad.getStderr());
        assertTrue(bad.getStderr().contains("HINT:"), bad.getStderr());
    }

    @Test
    @Order(5)
    void removeKeepsTheConfigurationAndPurgeRemovesIt() throws Exception {
        ok(run("cp", "/etc/hostname", "/var/lib/zpitr/audit.jsonl")); // any audit log

        ok(apt("remove", "zpitr"));
        assertFalse(exists("/usr/bin/zpitr"));
        assertFalse(exists("/usr/share/zpitr/zpitr.jar"));
        assertTrue(exists("/etc/zpitr/zpitr.yaml"), "the operator's configuration stays on remove");
        assertTrue(exists("/etc/zpitr/zpitr.yaml.example"), "a conffile stays on remove");
        assertTrue(exists("/var/lib/zpitr/spool"));
        assertEquals("deinstall ok config-files", ok(run("dpkg-query", "-W", "-f", "${Status}", "zpitr")));

        ExecResult purge = apt("purge", "zpitr");
        ok(purge);
        assertFalse(exists("/etc/zpitr"), "configuration gone on purge");
        assertFalse(exists("/var/lib/zpitr/spool"));
        assertTrue(exists("/var/lib/zpitr/audit.jsonl"), "the audit log is evidence: kept");
        assertTrue((purge.getStdout() + purge.getStderr()).contains("kept the audit log in /var/lib/zpitr"));
        assertEquals(1, run("dpkg-query", "-W", "zpitr").getExitCode(), "no trace in dpkg's database");
    }

    @Test
    @Order(6)
    void lintianFindsNothingThatIsNotExplained() throws Exception {
        // Overridden tags are explained in deb/src/deb/lintian-overrides; anything else fails.
        ExecResult lint = run(
                "timeout",
                CMD_TIMEOUT,
                "lintian",
                "--pedantic",
                "--info",
                "--fail-on",
                "error,warning,info,pedantic",
                debInContainer);
        assertEquals(0, lint.getExitCode(), lint.getStdout() + lint.getStderr());
        assertTrue(lint.getStdout().lines().noneMatch(l -> l.matches("^[EWIP]: .*")), lint.getStdout());
    }

    /** A command in the container, bounded in time; its result whatever the exit code. */
    static ExecResult run(String... argv) throws IOException, InterruptedException {
        List<String> bounded = new ArrayList<>(List.of("timeout", CMD_TIMEOUT));
        if ("timeout".equals(argv[0])) {
            bounded.clear();
        }
        bounded.addAll(List.of(argv));
        return debian.execInContainer(bounded.toArray(String[]::new));
    }

    static ExecResult apt(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(
                "timeout",
                APT_TIMEOUT,
                "env",
                "DEBIAN_FRONTEND=noninteractive",
                "apt-get",
                "-y",
                "-q",
                "-o",
                "Acquire::Retries=3"));
        argv.addAll(List.of(args));
        return debian.execInContainer(argv.toArray(String[]::new));
    }

    static String ok(ExecResult r) {
        assertEquals(
                0,
                r.getExitCode(),
                "exit " + r.getExitCode() + "\nstdout:\n" + r.getStdout() + "\nstderr:\n" + r.getStderr());
        return r.getStdout();
    }

    static boolean exists(String path) throws IOException, InterruptedException {
        return run("test", "-e", path).getExitCode() == 0;
    }
}

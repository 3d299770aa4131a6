// The Debian packages the sandbox runs on, and installing the missing ones.
package io.zpitr.appliance.demo;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** zfs-fuse, PostgreSQL 15 and OpenSSH's server, each recognised by a file it installs. */
final class Packages {
    /** A package and the file that shows it is there. */
    record Needed(String name, Path file, String why) {}

    static final List<Needed> NEEDED = List.of(
            new Needed(
                    "zfs-fuse", Path.of("/usr/sbin/zfs-fuse"), "ZFS in user space: zfs, zpool and the zfs-fuse daemon"),
            new Needed(
                    "postgresql-15",
                    DemoCluster.BIN.resolve("postgres"),
                    "the primary, the standby and restored instances"),
            new Needed("openssh-server", Path.of("/usr/sbin/sshd"), "the two archive hosts (and ssh-keygen, scp)"));

    /** postgresql-common reads this before making a package's default cluster. */
    private static final Path NO_MAIN_CLUSTER = Path.of("/etc/postgresql-common/createcluster.d/zpitr-demo.conf");

    private final ProcessRunner runner;

    Packages(ProcessRunner runner) {
        this.runner = runner;
    }

    List<Needed> missing() {
        return NEEDED.stream().filter(n -> !Files.isExecutable(n.file())).toList();
    }

    /** apt-get install -y, without questions; needs root. */
    void install(List<Needed> packages) {
        if (!Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            throw ZpitrError.FAILED.exception("missing: "
                    + String.join(", ", packages.stream().map(Needed::name).toList())
                    + ", and there is no apt-get to install them\nHINT: install them with this system's package manager,"
                    + " then run zpitr demo again");
        }
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("DEBIAN_FRONTEND", "noninteractive");
        ProcessResult update = runner.run(
                Command.of("apt-get", "update", "-qq").environment(env).timeout(Duration.ofMinutes(10)));
        if (!update.succeeded()) {
            throw ZpitrError.FAILED.exception("apt-get update failed: " + tail(update.stderr())
                    + "\nHINT: is a Debian mirror reachable? (see /etc/apt/sources.list)");
        }
        List<String> argv = new java.util.ArrayList<>(List.of("apt-get", "install", "-y", "-qq"));
        packages.forEach(p -> argv.add(p.name()));
        ProcessResult install;
        boolean noMainCluster =
                packages.stream().anyMatch(p -> p.name().startsWith("postgresql")) && !Files.exists(NO_MAIN_CLUSTER);
        try {
            if (noMainCluster) {
                // The demo makes its own clusters; Debian's default one would only hold port 5432.
                Files.createDirectories(NO_MAIN_CLUSTER.getParent());
                Files.writeString(
                        NO_MAIN_CLUSTER,
                        "# written by zpitr demo for the time of its apt-get install\n"
                                + "create_main_cluster = false\n");
            }
            install = runner.run(Command.of(argv).environment(env).timeout(Duration.ofMinutes(15)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + NO_MAIN_CLUSTER, e);
        } finally {
            if (noMainCluster) {
                try {
                    Files.deleteIfExists(NO_MAIN_CLUSTER);
                } catch (IOException e) {
                    // Left behind, it only means later PostgreSQL installs make no default cluster either.
                }
            }
        }
        if (!install.succeeded()) {
            throw ZpitrError.FAILED.exception("apt-get install " + String.join(" ", argv.subList(4, argv.size()))
                    + " failed: " + tail(install.stderr())
                    + "\nHINT: run the same apt-get install by hand to see the whole story");
        }
        List<Needed> still = missing();
        if (!still.isEmpty()) {
            throw ZpitrError.FAILED.exception("after apt-get install, still missing: "
                    + still.get(0).file() + "\nHINT: on Debian 12 the packages are "
                    + String.join(", ", NEEDED.stream().map(Needed::name).toList()));
        }
    }

    private static String tail(String text) {
        List<String> lines = text.strip().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    }
}

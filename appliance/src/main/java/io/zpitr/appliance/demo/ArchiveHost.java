// One archive host of the sandbox: an OpenSSH sshd on its own loopback address, with a fresh host key.
package io.zpitr.appliance.demo;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * An archive host: {@code sshd -f /dev/null} with only {@code -o} options, listening on
 * {@code 127.0.0.x:}{@value #PORT}, its own host key, one authorized client key, SFTP through
 * {@code internal-sftp}, and an {@code arch} folder that the primary's archive_command fills.
 * Stopping it is a real "host down": connections are refused afterwards.
 */
final class ArchiveHost {
    static final int PORT = 2222;
    private static final String SSHD = "/usr/sbin/sshd";
    private static final int FIRST_OCTET = 20;
    private static final int LAST_OCTET = 250;

    private final ProcessRunner runner;
    private final String name;
    private final Path home;
    private String address;

    ArchiveHost(ProcessRunner runner, String name, Path home) {
        this.runner = runner;
        this.name = name;
        this.home = home;
    }

    String name() {
        return name;
    }

    String address() {
        return address;
    }

    /** The archive folder, with one dated subfolder per day of WAL. */
    Path archive() {
        return home.resolve("arch");
    }

    Path hostKey() {
        return home.resolve("ssh_host_ed25519_key");
    }

    static Path pidFile(Path hostHome) {
        return hostHome.resolve("sshd.pid");
    }

    Path log() {
        return home.resolve("sshd.log");
    }

    /** Host key, authorized_keys for {@code clientPublicKey}, and an archive folder postgres may write. */
    void prepare(Path clientPublicKey, String archiveOwner) throws IOException {
        Files.createDirectories(home);
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
        Keys.generate(runner, hostKey(), "zpitr-demo " + name);
        Files.writeString(home.resolve("authorized_keys"), Files.readString(clientPublicKey));
        Files.createDirectories(archive());
        runner.run(Command.of("chown", archiveOwner + ":", archive().toString()))
                .requireSuccess();
        // sshd refuses to start without its privilege separation folder.
        Files.createDirectories(Path.of("/run/sshd"));
    }

    /** Starts sshd on a free loopback address (none of {@code avoid}); returns once it accepts connections. */
    void start(Set<String> avoid) {
        List<String> failures = new ArrayList<>();
        for (int octet = FIRST_OCTET; octet <= LAST_OCTET && failures.size() < 5; octet++) {
            String candidate = "127.0.0." + octet;
            if (avoid.contains(candidate) || !bindable(candidate)) {
                continue;
            }
            address = candidate;
            String failure = launch();
            if (failure == null) {
                return;
            }
            failures.add(candidate + ": " + failure);
            address = null;
        }
        throw ZpitrError.FAILED.exception("sshd for archive host " + name + " did not start:\n  "
                + String.join("\n  ", failures) + "\nHINT: see " + log());
    }

    /** Runs sshd at {@link #address}; null when it is up, else why not (the caller tries another address). */
    private String launch() {
        List<String> options = List.of(
                "-f", "/dev/null",
                "-o", "ListenAddress=" + address + ":" + PORT,
                "-o", "HostKey=" + hostKey(),
                "-o", "PidFile=" + pidFile(home),
                "-o", "AuthorizedKeysFile=" + home.resolve("authorized_keys"),
                "-o", "PasswordAuthentication=no",
                "-o", "KbdInteractiveAuthentication=no",
                "-o", "PermitRootLogin=prohibit-password",
                "-o", "UsePAM=no",
                "-o", "StrictModes=no",
                "-o", "Subsystem=sftp internal-sftp");
        // sshd forks before it binds: "-t" at least reports a bad option or key synchronously.
        List<String> test = new ArrayList<>(List.of(SSHD, "-t"));
        test.addAll(options);
        runner.run(Command.of(test).timeout(Duration.ofSeconds(30))).requireSuccess();
        try {
            Files.deleteIfExists(pidFile(home));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> argv = new ArrayList<>(List.of(SSHD, "-E", log().toString()));
        argv.addAll(options);
        ProcessResult r = runner.run(Command.of(argv).timeout(Duration.ofSeconds(30)));
        if (!r.succeeded()) {
            return "exit " + r.exitCode() + ": " + r.stderr().strip();
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (ProcessTrees.pidIn(pidFile(home)).isPresent() && accepts(address)) {
                return null;
            }
            String log = read(log());
            if (log.contains("Address already in use") || log.contains("Cannot bind any address")) {
                stop();
                return "address taken";
            }
            Deadline.pause(50);
        }
        stop();
        return "no connection accepted within 20 s; " + log();
    }

    /** The known_hosts line that pins this host's key at its address and port. */
    String knownHostsLine() throws IOException {
        String[] pub = Files.readString(Keys.publicKeyOf(hostKey())).strip().split("\\s+");
        return "[" + address + "]:" + PORT + " " + pub[0] + " " + pub[1];
    }

    /** Kills sshd (and its sessions) by its pid file and waits until it is gone. */
    void stop() {
        stop(home);
    }

    static boolean stop(Path hostHome) {
        var sshd = ProcessTrees.pidIn(pidFile(hostHome))
                .flatMap(pid -> ProcessTrees.live(pid, ProcessTrees.executableEndsWith("sshd")));
        sshd.ifPresent(h -> ProcessTrees.stop(h, Duration.ofSeconds(10)));
        return sshd.isPresent();
    }

    private static boolean bindable(String address) {
        try (ServerSocket probe = new ServerSocket()) {
            // sshd binds with SO_REUSEADDR; probe alike, or a TIME_WAIT leftover would look like a taken port.
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(address, PORT));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static boolean accepts(String address) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, PORT), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }
}

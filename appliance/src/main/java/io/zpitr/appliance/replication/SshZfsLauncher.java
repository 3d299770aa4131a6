// Runs a replication target's zfs commands over ssh: pinned host key, key only, bounded waits, no local shell.
package io.zpitr.appliance.replication;

import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.ZfsLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Wraps a {@code zfs} argv in an {@code ssh} command line to the target. The ssh process is started
 * from an argv list; on the host, sshd hands the command to the login user's shell, so each
 * element is single-quoted there (the names and values are validated before they get here, the
 * quoting makes that hold even for a value with a space). Options, as for archive hosts:
 * {@code -F /dev/null} (no user or system ssh_config), the key only, the host key checked against
 * the configured known_hosts and never added, {@code BatchMode} (never a prompt),
 * {@code ConnectTimeout}, and keepalives that end the session once the host has been silent for
 * about {@code io_timeout}. The commands of one run share one connection (OpenSSH's
 * ControlMaster), ended by {@link #close()}.
 */
final class SshZfsLauncher implements ZfsLauncher, AutoCloseable {
    /** Unanswered keepalives after which ssh gives the host up. */
    static final int KEEPALIVE_COUNT_MAX = 3;
    /** Longer socket paths do not fit a sockaddr_un with the random suffix ssh adds while binding. */
    private static final int MAX_CONTROL_PATH = 80;

    private final ReplicationTarget target;
    private final ProcessRunner runner;
    private final Path controlPath;

    /**
     * @param controlPath where the run's shared connection listens (one key exchange per run instead
     *                    of one per command: on a loaded machine each costs seconds), or null for none
     */
    SshZfsLauncher(ReplicationTarget target, ProcessRunner runner, Path controlPath) {
        if (target.type() != ReplicationTarget.Type.SSH) {
            throw new IllegalArgumentException("not an ssh target: " + target.describe());
        }
        this.target = target;
        this.runner = runner;
        String p = controlPath == null ? "" : controlPath.toString();
        // OpenSSH expands % and splits on whitespace in ControlPath: such a folder gets no shared connection.
        this.controlPath =
                p.isEmpty() || p.length() > MAX_CONTROL_PATH || p.matches(".*[\\s%\"'\\\\].*") ? null : controlPath;
    }

    @Override
    public List<String> argv(List<String> zfsArgv) {
        List<String> argv = options();
        argv.addAll(List.of("-l", target.user(), target.host(), "--"));
        argv.add(String.join(" ", zfsArgv.stream().map(SshZfsLauncher::quoted).toList()));
        return argv;
    }

    /**
     * One ssh session for several zfs commands: each argument quoted as in {@link #argv}, the
     * commands joined by {@code &&} for the login shell there, so the first that fails ends the
     * sequence with its own exit status and stderr.
     */
    @Override
    public Optional<List<String>> argvOfSequence(List<List<String>> zfsArgvs) {
        List<String> argv = options();
        argv.addAll(List.of("-l", target.user(), target.host(), "--"));
        argv.add(String.join(
                " && ",
                zfsArgvs.stream()
                        .map(a -> String.join(
                                " ", a.stream().map(SshZfsLauncher::quoted).toList()))
                        .toList()));
        return Optional.of(argv);
    }

    /** Ends the shared connection, if one was started; a failure only means there was none. */
    @Override
    public void close() {
        if (controlPath != null && Files.exists(controlPath)) {
            List<String> argv = options();
            argv.addAll(List.of("-O", "exit", "-l", target.user(), target.host()));
            runner.run(Command.of(argv).timeout(Duration.ofSeconds(30)));
        }
    }

    private List<String> options() {
        List<String> argv = new ArrayList<>(List.of(
                "ssh",
                "-F",
                "/dev/null",
                "-i",
                target.identityFile().toString(),
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "PreferredAuthentications=publickey",
                "-o",
                "UserKnownHostsFile=" + target.knownHosts(),
                "-o",
                "GlobalKnownHostsFile=/dev/null",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=" + Math.max(1, (target.connectTimeout().toMillis() + 999) / 1000),
                "-o",
                "ServerAliveInterval=" + Math.max(1, target.ioTimeout().toSeconds() / (KEEPALIVE_COUNT_MAX + 1)),
                "-o",
                "ServerAliveCountMax=" + KEEPALIVE_COUNT_MAX,
                "-o",
                "LogLevel=ERROR",
                "-p",
                Integer.toString(target.port())));
        if (controlPath != null) {
            // The first command becomes the master (in the background, its stdio on /dev/null); close() ends it.
            argv.addAll(
                    List.of("-o", "ControlMaster=auto", "-o", "ControlPath=" + controlPath, "-o", "ControlPersist=60"));
        }
        return argv;
    }

    /** One argument for a POSIX shell: single quotes, a quote inside written as '\''. */
    static String quoted(String arg) {
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    @Override
    public String toString() {
        return target.user() + "@" + target.hostAndPort();
    }
}

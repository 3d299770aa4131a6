// Runs a replication target's zfs commands over ssh: pinned host key, key only, bounded waits, no local shell.
package io.zpitr.appliance.replication;

import io.zpitr.zfs.ZfsLauncher;
import java.util.ArrayList;
import java.util.List;

/**
 * Wraps a {@code zfs} argv in an {@code ssh} command line to the target. The ssh process is started
 * from an argv list; on the host, sshd hands the command to the login user's shell, so each
 * element is single-quoted there (the names and values are validated before they get here, the
 * quoting makes that hold even for a value with a space). Options, as for archive hosts:
 * {@code -F /dev/null} (no user or system ssh_config), the key only, the host key checked against
 * the configured known_hosts and never added, {@code BatchMode} (never a prompt),
 * {@code ConnectTimeout}, and keepalives that end the session once the host has been silent for
 * about {@code io_timeout}.
 */
final class SshZfsLauncher implements ZfsLauncher {
    /** Unanswered keepalives after which ssh gives the host up. */
    static final int KEEPALIVE_COUNT_MAX = 3;

    private final ReplicationTarget target;

    SshZfsLauncher(ReplicationTarget target) {
        if (target.type() != ReplicationTarget.Type.SSH) {
            throw new IllegalArgumentException("not an ssh target: " + target.describe());
        }
        this.target = target;
    }

    @Override
    public List<String> argv(List<String> zfsArgv) {
        List<String> argv = new ArrayList<>(List.of("ssh",
                "-F", "/dev/null",
                "-i", target.identityFile().toString(),
                "-o", "IdentitiesOnly=yes",
                "-o", "PreferredAuthentications=publickey",
                "-o", "UserKnownHostsFile=" + target.knownHosts(),
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=" + Math.max(1, (target.connectTimeout().toMillis() + 999) / 1000),
                "-o", "ServerAliveInterval=" + Math.max(1, target.ioTimeout().toSeconds() / (KEEPALIVE_COUNT_MAX + 1)),
                "-o", "ServerAliveCountMax=" + KEEPALIVE_COUNT_MAX,
                "-o", "LogLevel=ERROR",
                "-p", Integer.toString(target.port()),
                "-l", target.user(),
                target.host(),
                "--"));
        argv.add(String.join(" ", zfsArgv.stream().map(SshZfsLauncher::quoted).toList()));
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

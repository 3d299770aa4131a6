// Who did an audited operation: OS user, process id, host, and the sudo caller when there is one.
package io.zpitr.appliance.audit;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The {@code actor} of an audit record.
 *
 * @param user     the OS user the process runs as ({@code user.name})
 * @param pid      the process id
 * @param host     the host name: the kernel's ({@code /proc/sys/kernel/hostname}), else
 *                 {@code /etc/hostname}, else what the resolver says
 * @param sudoUser who ran zpitr through {@code sudo} ({@code $SUDO_USER}), or null: manual
 *                 commands usually run as root, and an auditor wants the person behind it
 */
public record Actor(String user, long pid, String host, String sudoUser) {
    public Actor {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(host, "host");
    }

    /** This process. */
    public static Actor current() {
        String sudo = System.getenv("SUDO_USER");
        return new Actor(
                System.getProperty("user.name", "unknown"),
                ProcessHandle.current().pid(),
                hostName(),
                sudo == null || sudo.isBlank() ? null : sudo);
    }

    /** {@code user@host}, or {@code sudo-user(sudo)@host}: the person first. */
    public String display() {
        return (sudoUser == null ? user : sudoUser + "(sudo)") + "@" + host;
    }

    static String hostName() {
        for (String file : new String[] {"/proc/sys/kernel/hostname", "/etc/hostname"}) {
            try {
                String name = Files.readString(Path.of(file)).strip();
                if (!name.isEmpty() && name.lines().count() == 1) {
                    return name;
                }
            } catch (IOException | SecurityException e) {
                // not Linux, or not readable: try the next way
            }
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}

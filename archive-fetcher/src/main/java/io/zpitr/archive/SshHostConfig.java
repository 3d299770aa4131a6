// One archive host reached over SSH, as configured (archive.sources[] with type: ssh), validated on construction.
package io.zpitr.archive;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An archive host and how to reach it. Every value that reaches an external program or a remote
 * shell is checked here, so an invalid one can never be used:
 *
 * <ul>
 *   <li>{@code remotePath} must be absolute, made only of {@code A-Z a-z 0-9 / . _ - + , = @}, and
 *       hold no {@code .} or {@code ..} component. The legacy {@code scp} protocol hands the remote
 *       path to the login shell on the host, so whitespace, quotes, {@code $}, {@code ;}, glob
 *       characters and the like are refused rather than escaped. A trailing {@code /} is dropped.</li>
 *   <li>{@code host} is a host name or an IPv4/IPv6 address; {@code user} a portable login name; neither
 *       may start with {@code -} (it would become an option of ssh).</li>
 *   <li>{@code identityFile} and {@code knownHosts} may not contain whitespace, quotes, {@code %} or
 *       a backslash: OpenSSH splits and expands those in {@code -o UserKnownHostsFile=} and
 *       {@code -i}. They should be absolute; the configuration loader resolves relative ones.</li>
 *   <li>{@code transports} is non-empty, without repetition, tried in the given order.</li>
 *   <li>{@code connectTimeout} is positive; it bounds the TCP connect of the reachability probe,
 *       of JSch and of {@code scp} ({@code ConnectTimeout}, rounded up to whole seconds), and the
 *       wait for the SSH banner after it: a host that accepts the connection and says nothing is hung.</li>
 *   <li>{@code ioTimeout} is positive; it bounds every later network wait: each read of the key
 *       exchange and authentication, opening the SFTP channel, and each SFTP request or stretch of
 *       a transfer without progress (see docs/wal-fetch.md, "Bounds").</li>
 * </ul>
 *
 * A refused value raises {@link IllegalArgumentException} whose message names the source, the key
 * and the value, with a {@code HINT:} line.
 *
 * @param name           the source's configured name
 * @param host           host name or address
 * @param port           TCP port of sshd, 1..65535
 * @param user           login user
 * @param remotePath     the archive folder on the host, absolute
 * @param identityFile   the private key used for public-key authentication (the only credential)
 * @param knownHosts     the known_hosts file the host key is verified against
 * @param transports     transports in the order they are tried
 * @param connectTimeout bound of one TCP connect and of the wait for the SSH banner
 * @param ioTimeout      bound of every later network wait ({@code archive.io_timeout})
 */
public record SshHostConfig(
        String name,
        String host,
        int port,
        String user,
        String remotePath,
        Path identityFile,
        Path knownHosts,
        List<Transport> transports,
        Duration connectTimeout,
        Duration ioTimeout) {

    /** {@code archive.io_timeout} when none is configured. */
    public static final Duration DEFAULT_IO_TIMEOUT = Duration.ofSeconds(10);

    /** As the canonical constructor, with {@link #DEFAULT_IO_TIMEOUT}. */
    public SshHostConfig(
            String name,
            String host,
            int port,
            String user,
            String remotePath,
            Path identityFile,
            Path knownHosts,
            List<Transport> transports,
            Duration connectTimeout) {
        this(
                name,
                host,
                port,
                user,
                remotePath,
                identityFile,
                knownHosts,
                transports,
                connectTimeout,
                DEFAULT_IO_TIMEOUT);
    }

    /** How bytes are fetched from the host. */
    public enum Transport {
        /** SFTP through JSch on one long-lived session. */
        SFTP,
        /** The system {@code scp -O} (legacy SCP protocol), one process per copy. */
        SCP;

        /** Parses {@code sftp} or {@code scp} (any case), as written in the configuration. */
        public static Transport parse(String text) {
            if (text != null) {
                for (Transport t : values()) {
                    if (t.name().equalsIgnoreCase(text.strip())) {
                        return t;
                    }
                }
            }
            throw new IllegalArgumentException("unknown transport '" + text + "'"
                    + "\nHINT: transports may be sftp and scp, e.g. transports: [sftp, scp]");
        }

        /** The name as configured: {@code sftp} or {@code scp}. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9/._+,=@-]*");
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
    private static final Pattern OPENSSH_SPECIAL = Pattern.compile("[\\s\"'%\\\\]");

    public SshHostConfig {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("an ssh archive source needs a name");
        }
        if (host == null
                || !(HOST_NAME.matcher(host).matches() || IPV6.matcher(host).matches())) {
            throw refused(name, "host", host, "a host name (letters, digits, '.', '-') or an IP address");
        }
        if (port < 1 || port > 65535) {
            throw refused(name, "port", Integer.toString(port), "a TCP port, 1 to 65535");
        }
        if (user == null || !USER.matcher(user).matches()) {
            throw refused(
                    name, "user", user, "a login name of letters, digits, '_', '.', '-', not starting with '-' or '.'");
        }
        remotePath = validRemotePath(name, remotePath);
        requireOpenSshLiteral(name, "identity_file", identityFile);
        requireOpenSshLiteral(name, "known_hosts", knownHosts);
        if (transports == null || transports.isEmpty()) {
            throw refused(name, "transports", String.valueOf(transports), "at least one of sftp, scp");
        }
        Set<Transport> seen = EnumSet.noneOf(Transport.class);
        for (Transport t : transports) {
            if (!seen.add(Objects.requireNonNull(t, "transport"))) {
                throw refused(name, "transports", transports.toString(), "each transport at most once");
            }
        }
        transports = List.copyOf(transports);
        if (connectTimeout == null || connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw refused(name, "connect_timeout", String.valueOf(connectTimeout), "a positive duration such as 1s");
        }
        if (ioTimeout == null || ioTimeout.isNegative() || ioTimeout.isZero()) {
            throw refused(name, "io_timeout", String.valueOf(ioTimeout), "a positive duration such as 10s");
        }
    }

    /** {@code host:port}, with an IPv6 address in brackets: how messages name the endpoint. */
    public String hostAndPort() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * The name sshd's host key is filed under in known_hosts: {@code host} for port 22,
     * {@code [host]:port} otherwise (OpenSSH's rule, which zpitr follows for SFTP as well).
     */
    public String knownHostsName() {
        return port == 22 ? host : "[" + host + "]:" + port;
    }

    private static String validRemotePath(String source, String path) {
        String hint = "an absolute folder such as /data04/pgdata/arch, made of letters, digits and / . _ - + , = @"
                + " (the scp fallback hands it to a shell on the host, so nothing else is accepted)";
        if (path == null || !SAFE_PATH.matcher(path).matches()) {
            throw refused(source, "path", path, hint);
        }
        for (String component : path.split("/")) {
            if (component.equals(".") || component.equals("..")) {
                throw refused(source, "path", path, "a path without '.' or '..' components");
            }
        }
        String trimmed = path.replaceAll("/+", "/");
        if (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        if (trimmed.isEmpty()) {
            throw refused(source, "path", path, "the archive folder, not the root directory");
        }
        return trimmed;
    }

    private static void requireOpenSshLiteral(String source, String key, Path file) {
        if (file == null) {
            throw refused(source, key, null, "a file path");
        }
        String text = file.toString();
        if (text.isEmpty()
                || OPENSSH_SPECIAL.matcher(text).find()
                || text.chars().anyMatch(Character::isISOControl)) {
            throw refused(
                    source,
                    key,
                    text,
                    "a path without whitespace, quotes, '%' or '\\' (OpenSSH splits or"
                            + " expands those in -i and -o UserKnownHostsFile=)");
        }
    }

    private static IllegalArgumentException refused(String source, String key, String value, String expected) {
        return new IllegalArgumentException("archive source '" + source + "': " + key + " '" + printable(value)
                + "' is not accepted\nHINT: expected " + expected);
    }

    private static String printable(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        value.codePoints().limit(120).forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return value.length() > 120 ? b + "..." : b.toString();
    }
}

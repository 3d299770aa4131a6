// Opens a JSch session to an archive host with strict host key checking and key-only authentication, and words its
// failures.
package io.zpitr.archive;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchAlgoNegoFailException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchHostKeyException;
import com.jcraft.jsch.JSchRevokedHostKeyException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SocketFactory;
import io.zpitr.archive.SshHostConfig.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Base64;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place zpitr configures JSch. A session authenticates with the configured identity file
 * only (no password, no agent, no keyboard-interactive) and accepts the host only if its key is
 * in the configured known_hosts under OpenSSH's name for it ({@link SshKnownHosts}). An unknown
 * or changed key is refused with its SHA256 fingerprint and the command to add it after
 * verification.
 */
final class SshSessions {
    /**
     * ed25519 first, as OpenSSH offers it. mwiede JSch verifies ed25519 with the JDK's EdDSA
     * (Java 15+), so no Bouncy Castle is needed; JSch further reorders this list to prefer the
     * key types known_hosts holds for the host, so a host with several keys presents the listed one.
     */
    static final String HOST_KEY_ALGORITHMS =
            "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256";
    /** Our own key: ed25519 first; rsa-sha2 for RSA keys (OpenSSH refuses the SHA-1 ssh-rsa signature). */
    static final String PUBLIC_KEY_ALGORITHMS = HOST_KEY_ALGORITHMS;
    /**
     * AES-GCM first: one pass for encryption and integrity, where CTR needs a separate HMAC. Measured
     * with SftpThroughputExperiment, one JSch session (docs/restore-guide.md, "Levers measured"):
     * warm, aes128-gcm cost this JVM 3.47 s of CPU per GiB against 3.99 s for aes128-ctr with
     * hmac-sha2-256-etm and more for the other CTR choices; sshd's side was alike for all. The CTR
     * ciphers stay as fallbacks for hosts without GCM. chacha20-poly1305 is left out: JSch's
     * implementation needs Bouncy Castle. {@code -Dzpitr.ssh.ciphers} replaces the list for a
     * measurement.
     */
    static final String CIPHERS = System.getProperty(
            "zpitr.ssh.ciphers", "aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr");
    /**
     * JSch's own MAC order unless a measurement asks for another ({@code -Dzpitr.ssh.macs}); GCM
     * needs none.
     */
    static final String MACS = System.getProperty("zpitr.ssh.macs", "");
    /** A silent host is declared gone after this many unanswered keepalives... */
    static final int KEEPALIVE_COUNT_MAX = 3;
    /** ...sent at this interval; also keeps an idle long-lived session from being dropped by firewalls. */
    static final Duration KEEPALIVE_INTERVAL = Duration.ofSeconds(15);

    private SshSessions() {}

    /**
     * A connected, authenticated session; {@code transport} only labels messages (the scp
     * fallback uses this to learn which host key a refusing host presented).
     *
     * @throws SshNoFallbackException     the host is down, or its host key is unknown or changed
     * @throws SourceUnavailableException  anything else: credentials files, authentication, algorithms
     */
    static Session open(SshEndpoint endpoint, Transport transport) throws SourceUnavailableException {
        SshHostConfig config = endpoint.config();
        endpoint.requireCredentialFiles(transport);
        endpoint.requireReachable(transport);

        JSch jsch = new JSch();
        jsch.setInstanceLogger(JSCH_LOG);
        SshKnownHosts knownHosts;
        Session session;
        try {
            jsch.addIdentity(config.identityFile().toString());
            // A fresh JSch per connection re-reads known_hosts: an operator's fix applies at the next connect.
            knownHosts = SshKnownHosts.load(jsch, config.knownHosts());
            session = jsch.getSession(config.user(), config.host(), config.port());
        } catch (JSchException e) {
            throw endpoint.failure(
                    transport,
                    "cannot load identity_file " + config.identityFile() + " or known_hosts "
                            + config.knownHosts() + ": " + e.getMessage()
                            + "\nHINT: the identity must be an unencrypted OpenSSH private key (ssh-keygen -t ed25519 -N '')",
                    e);
        }
        session.setHostKeyRepository(knownHosts);
        session.setConfig(sessionConfig());
        // The TCP connect and the wait for the banner are bounded by connect_timeout: a host that
        // accepts the connection and says nothing (a frozen VM, a stopped sshd) is hung. Every
        // later read of the handshake waits at most io_timeout (JSch's connect timeout is a read timeout).
        session.setSocketFactory(new BoundedConnect(config.connectTimeout()));
        // JSch's reader thread must not keep a finished wal-fetch JVM alive if a caller forgets close().
        session.setDaemonThread(true);
        try {
            session.setServerAliveInterval((int) KEEPALIVE_INTERVAL.toMillis());
            session.setServerAliveCountMax(KEEPALIVE_COUNT_MAX);
            session.connect(millis(config.ioTimeout()));
            return session;
        } catch (JSchException e) {
            session.disconnect();
            throw explain(endpoint, transport, session, knownHosts, e);
        }
    }

    private static Properties sessionConfig() {
        Properties p = new Properties();
        p.put("StrictHostKeyChecking", "yes");
        p.put("HashKnownHosts", "no");
        p.put("PreferredAuthentications", "publickey");
        p.put("server_host_key", HOST_KEY_ALGORITHMS);
        p.put("PubkeyAcceptedAlgorithms", PUBLIC_KEY_ALGORITHMS);
        p.put("prefer_known_host_key_types", "yes");
        p.put("cipher.s2c", CIPHERS);
        p.put("cipher.c2s", CIPHERS);
        if (!MACS.isEmpty()) {
            p.put("mac.s2c", MACS);
            p.put("mac.c2s", MACS);
        }
        return p;
    }

    private static SourceUnavailableException explain(
            SshEndpoint endpoint, Transport transport, Session session, HostKeyRepository knownHosts, JSchException e) {
        SshHostConfig config = endpoint.config();
        String message = String.valueOf(e.getMessage());
        HostKey presented = session.getHostKey();
        if (e instanceof JSchRevokedHostKeyException) {
            return new SshNoFallbackException(
                    config.name(),
                    endpoint.where(transport) + ": host key refused: "
                            + fingerprintOf(presented) + " is marked @revoked in " + config.knownHosts()
                            + "\nHINT: the host's key was withdrawn on purpose; ask its administrator for the new one",
                    e);
        }
        if (presented != null
                && (e instanceof JSchHostKeyException
                        || message.startsWith("reject HostKey")
                        || message.startsWith("HostKey has been changed"))) {
            return hostKeyRefused(endpoint, transport, presented, knownHosts, e);
        }
        // JSch's auth exception classes are package-private; its messages are all that is visible.
        if (message.startsWith("Auth fail")
                || message.startsWith("Auth cancel")
                || message.startsWith("USERAUTH fail")) {
            return endpoint.failure(
                    transport,
                    "public-key authentication as '" + config.user() + "' with "
                            + config.identityFile() + " was refused (" + message + ")"
                            + "\nHINT: is that key's public half in ~" + config.user()
                            + "/.ssh/authorized_keys on the host,"
                            + " and is the key without passphrase?",
                    e);
        }
        if (e instanceof JSchAlgoNegoFailException) {
            return endpoint.failure(
                    transport,
                    "no algorithm in common with the host: " + message
                            + "\nHINT: the host's sshd must offer an ed25519, ecdsa or rsa-sha2 host key",
                    e);
        }
        Throwable cause = e.getCause();
        if (cause instanceof ConnectFailed) {
            // It answered the reachability probe a moment ago and not now: remember it as the probe would.
            endpoint.rememberDown();
            return new SshNoFallbackException(
                    config.name(),
                    endpoint.where(transport) + ": host stopped accepting connections: " + cause.getMessage(),
                    e);
        }
        if (cause instanceof NoBanner) {
            // A hung host: remembered as down like a refusing one, so later fetches skip it at once.
            endpoint.rememberDown();
            return new SshNoFallbackException(
                    config.name(),
                    endpoint.where(transport)
                            + ": host accepted the TCP connection but sent no SSH banner within "
                            + config.connectTimeout().toMillis() + " ms (hung?); skipping it for archive.down_for"
                            + "\nHINT: is the host frozen or its sshd stuck? archive.connect_timeout bounds this wait",
                    e);
        }
        if (cause instanceof SocketTimeoutException || message.contains("timeout")) {
            endpoint.rememberDown();
            return new SshNoFallbackException(
                    config.name(),
                    endpoint.where(transport)
                            + ": the SSH handshake stalled: no answer within "
                            + config.ioTimeout().toMillis() + " ms ("
                            + message + "); skipping the host for archive.down_for"
                            + "\nHINT: is an sshd (and not another service) listening on " + config.hostAndPort()
                            + ", and is the host overloaded? archive.io_timeout bounds each wait",
                    e);
        }
        return endpoint.failure(transport, "SSH connection failed: " + message, e);
    }

    private static SourceUnavailableException hostKeyRefused(
            SshEndpoint endpoint,
            Transport transport,
            HostKey presented,
            HostKeyRepository knownHosts,
            JSchException e) {
        SshHostConfig config = endpoint.config();
        byte[] blob = Base64.getDecoder().decode(presented.getKey());
        String type = SshKnownHosts.keyType(blob);
        String fingerprint = SshKnownHosts.fingerprint(blob);
        String name = config.knownHostsName();
        String keyscan = endpoint.keyscanCommand(SshKnownHosts.keyscanType(type));
        boolean changed = knownHosts.check(name, blob) == HostKeyRepository.CHANGED;
        String text = changed
                ? "host key refused: it does not match the " + type + " key that " + config.knownHosts()
                        + " holds for " + name + "; the host presented " + type + " " + fingerprint
                        + ". Someone may be intercepting the connection, or the host was reinstalled"
                        + "\nHINT: verify " + fingerprint
                        + " with the host's administrator (on the host: ssh-keygen -lf"
                        + " /etc/ssh/ssh_host_" + SshKnownHosts.keyscanType(type) + "_key.pub); only if it is genuine,"
                        + " remove the old key (ssh-keygen -R '" + name + "' -f " + config.knownHosts()
                        + ") and add the new one: " + keyscan
                : "host key refused: " + config.knownHosts() + " has no key for " + name + "; the host presented "
                        + type + " " + fingerprint
                        + "\nHINT: verify " + fingerprint
                        + " with the host's administrator (on the host: ssh-keygen -lf"
                        + " /etc/ssh/ssh_host_" + SshKnownHosts.keyscanType(type) + "_key.pub), then add it: "
                        + keyscan;
        return new SshNoFallbackException(config.name(), endpoint.where(transport) + ": " + text, e);
    }

    private static String fingerprintOf(HostKey key) {
        return key == null
                ? "its key"
                : SshKnownHosts.fingerprint(Base64.getDecoder().decode(key.getKey()));
    }

    /** Milliseconds for a socket or JSch timeout: never 0, which means "wait forever" to both. */
    static int millis(Duration timeout) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    }

    /**
     * A plain socket whose connect, and the wait for the first byte the host sends (its SSH
     * banner), are bounded by the configured connect timeout; JSch would use its read timeout for both.
     */
    private static final class BoundedConnect implements SocketFactory {
        private final int timeoutMillis;

        BoundedConnect(Duration connectTimeout) {
            this.timeoutMillis = millis(connectTimeout);
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            } catch (IOException e) {
                socket.close();
                throw new ConnectFailed(
                        e instanceof SocketTimeoutException
                                ? "no answer within " + timeoutMillis + " ms"
                                : e.getMessage(),
                        e);
            }
            socket.setTcpNoDelay(true);
            return socket;
        }

        @Override
        public InputStream getInputStream(Socket socket) throws IOException {
            return new BannerBound(socket, timeoutMillis);
        }

        @Override
        public OutputStream getOutputStream(Socket socket) throws IOException {
            return socket.getOutputStream();
        }
    }

    /**
     * The socket's input with the read timeout narrowed to the connect timeout until the host has
     * sent its first byte; afterwards reads wait as long as JSch set (io_timeout, keepalives).
     */
    private static final class BannerBound extends java.io.FilterInputStream {
        private final Socket socket;
        private final int bannerMillis;
        private boolean heard;

        BannerBound(Socket socket, int bannerMillis) throws IOException {
            super(socket.getInputStream());
            this.socket = socket;
            this.bannerMillis = bannerMillis;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (heard) {
                return in.read(b, off, len);
            }
            int saved = socket.getSoTimeout();
            socket.setSoTimeout(saved == 0 ? bannerMillis : Math.min(saved, bannerMillis));
            try {
                int n = in.read(b, off, len);
                heard = n > 0;
                return n;
            } catch (SocketTimeoutException e) {
                throw new NoBanner("no SSH banner within " + bannerMillis + " ms", e);
            } finally {
                socket.setSoTimeout(saved);
            }
        }
    }

    /** The host accepted the TCP connection but sent nothing within the connect timeout. */
    private static final class NoBanner extends SocketTimeoutException {
        NoBanner(String message, SocketTimeoutException cause) {
            super(message);
            initCause(cause);
        }
    }

    /** The TCP connect itself failed, as opposed to anything after it. */
    private static final class ConnectFailed extends IOException {
        ConnectFailed(String message, IOException cause) {
            super(message, cause);
        }
    }

    /** JSch's chatter goes to debug: our own messages carry what an operator needs. */
    private static final com.jcraft.jsch.Logger JSCH_LOG = new com.jcraft.jsch.Logger() {
        private final Logger log = LoggerFactory.getLogger("io.zpitr.archive.jsch");

        @Override
        public boolean isEnabled(int level) {
            return log.isDebugEnabled();
        }

        @Override
        public void log(int level, String message) {
            log.debug(message);
        }
    };
}

// An archive host over SSH as a WalSource: SFTP through JSch first, the system `scp -O` when SFTP is refused.
package io.zpitr.archive;

import io.zpitr.archive.SshHostConfig.Transport;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One archive host reached over SSH ({@code type: ssh} in {@code archive.sources}). The transports
 * configured in {@link SshHostConfig#transports()} are tried in order:
 *
 * <ul>
 *   <li><b>sftp</b> — JSch ({@code com.github.mwiede:jsch}) on one session and one SFTP channel
 *       that stay open for the life of this object and are reused by every call (a prefetcher
 *       fetches hundreds of segments through one source); a dropped session is reconnected once.
 *       {@link #find} stats {@code <path>/<file>}, then {@code <path>/<dir>/<file>} for every folder
 *       below {@code path}, newest-named first; the folder listing is kept for a few seconds and
 *       re-read when the file is not found. Listing costs one round trip per folder, and the
 *       listing itself transfers every entry of {@code path}.</li>
 *   <li><b>scp</b> — the system {@code scp -O} through {@link ProcessRunner}; see
 *       {@link ScpTransport} for how it finds files without being able to list (it copies, and
 *       sees at most one copy: top-level, else the newest-named dated one).</li>
 * </ul>
 *
 * <p>Security: authentication with the configured identity file only (no password, no agent);
 * the host key must be in the configured known_hosts under {@code [host]:port} (plain
 * {@code host} for port 22) — strict checking, never trust on first use. An unknown or changed
 * key fails with its SHA256 fingerprint and the {@code ssh-keyscan} line to add it after
 * verifying it.
 *
 * <p>Before any new connection, the {@link HostReachability} gate: a host remembered as down
 * fails at once; otherwise one TCP connect bounded by {@code connect_timeout} decides, and a
 * host that does not answer is remembered as down for {@code down_for} across processes.
 *
 * <p>Failover between transports: when the host refuses the SFTP subsystem, scp is tried (if
 * configured), and SFTP is not asked again for {@link #SFTP_RETRY_AFTER}. When a transport cannot
 * log in (refused login, no common algorithm, handshake timeout), the next one is tried too, and
 * if none succeeds the {@link SourceUnavailableException} lists each one's reason. No other
 * transport is asked when the host is down, its host key is refused, or SFTP logged in but could
 * not read the archive — scp, which cannot list, could turn that failure into a false "missing".
 *
 * <p>Thread-safe. SFTP calls of one instance are serialized over its one channel; for parallel
 * SFTP fetches use one instance per worker.
 */
public final class SshSource implements WalSource {
    private static final Logger LOG = LoggerFactory.getLogger(SshSource.class);
    /** After the host refused the SFTP subsystem, SFTP is skipped for this long (scp is used). */
    public static final Duration SFTP_RETRY_AFTER = Duration.ofMinutes(5);

    private final SshEndpoint endpoint;
    private final SftpTransport sftp;
    private final ScpTransport scp;
    /** System.nanoTime() of the last SFTP refusal, or null; volatile: read without the transport's lock. */
    private volatile Long sftpRefusedAtNanos;

    /**
     * A source for {@code config}; nothing is connected until the first call. Copies made by the
     * scp transport are kept in a private folder under the system temporary directory.
     *
     * @param reachability the shared down-host memory and TCP probe
     * @param runner       runs {@code scp}
     */
    public SshSource(SshHostConfig config, HostReachability reachability, ProcessRunner runner) {
        this(config, reachability, runner, Path.of(System.getProperty("java.io.tmpdir")));
    }

    /**
     * As {@link #SshSource(SshHostConfig, HostReachability, ProcessRunner)}, with the scp
     * transport's private folders under {@code scratchDir} (say, the spool folder).
     */
    public SshSource(SshHostConfig config, HostReachability reachability, ProcessRunner runner, Path scratchDir) {
        this.endpoint = new SshEndpoint(
                Objects.requireNonNull(config, "config"), Objects.requireNonNull(reachability, "reachability"));
        this.sftp = new SftpTransport(endpoint);
        this.scp = new ScpTransport(
                endpoint, Objects.requireNonNull(runner, "runner"), Objects.requireNonNull(scratchDir, "scratchDir"));
    }

    @Override
    public String name() {
        return endpoint.name();
    }

    /** The validated configuration. */
    public SshHostConfig config() {
        return endpoint.config();
    }

    /**
     * Every copy of {@code file} on the host that the first working transport can see, best first.
     * Empty means the host answered and has no such file.
     *
     * @throws SourceUnavailableException the host is down or remembered as down, its host key is
     *                                    unknown or changed, or no configured transport could search it;
     *                                    the message names source, {@code host:port}, transport and cause
     */
    @Override
    public List<WalCopy> find(WalFileName file) throws SourceUnavailableException {
        Objects.requireNonNull(file, "file");
        List<String> reasons = new ArrayList<>();
        for (Transport transport : config().transports()) {
            try {
                switch (transport) {
                    case SFTP -> {
                        if (!sftpRefusedRecently(reasons)) {
                            return sftp.find(file);
                        }
                    }
                    case SCP -> {
                        return scp.find(file);
                    }
                }
            } catch (SftpRefusedException e) {
                sftpRefused(e, reasons);
            } catch (SshNoFallbackException e) {
                throw e;
            } catch (SourceUnavailableException e) {
                reasons.add(e.getMessage());
            } catch (IOException e) {
                reasons.add(endpoint.where(transport) + ": local scratch folder: " + e);
            }
        }
        throw noTransport("search for " + file, reasons);
    }

    /**
     * Writes the bytes of {@code copy} (found by this source) into {@code target}, creating or
     * truncating it. Nothing else is written.
     *
     * @throws SourceUnavailableException the host stopped answering, the copy vanished, or no transport could read it
     * @throws IOException                writing {@code target} failed
     * @throws IllegalArgumentException   {@code copy} is not a location of this source
     */
    @Override
    public void download(WalCopy copy, Path target) throws SourceUnavailableException, IOException {
        SshEndpoint.Location location = endpoint.parse(copy);
        Objects.requireNonNull(target, "target");
        List<String> reasons = new ArrayList<>();
        for (Transport transport : orderFor(copy)) {
            try {
                switch (transport) {
                    case SFTP -> {
                        if (!sftpRefusedRecently(reasons)) {
                            sftp.download(location, copy, target);
                            return;
                        }
                    }
                    case SCP -> {
                        scp.download(location, copy, target);
                        return;
                    }
                }
            } catch (SftpRefusedException e) {
                sftpRefused(e, reasons);
            } catch (SshNoFallbackException e) {
                throw e;
            } catch (SourceUnavailableException e) {
                reasons.add(e.getMessage());
            }
        }
        throw noTransport("download " + copy.location(), reasons);
    }

    /**
     * For {@code zpitr check}: connects through {@code transport} (whether or not it is
     * configured) and confirms that the archive path is a folder.
     *
     * @return one line on what was confirmed, e.g. {@code sftp: logged in as postgres, /arch is a folder}
     * @throws SourceUnavailableException naming what failed, with a HINT
     */
    public String probe(Transport transport) throws SourceUnavailableException {
        try {
            return switch (transport) {
                case SFTP -> sftp.probe();
                case SCP -> scp.probe();
            };
        } catch (SftpRefusedException e) {
            throw new SourceUnavailableException(
                    name(),
                    e.getMessage() + "\nHINT: enable SFTP on the host (Subsystem sftp internal-sftp) or rely on scp",
                    e);
        } catch (IOException e) {
            throw endpoint.failure(transport, "local scratch folder: " + e, e);
        }
    }

    /** Closes the SFTP session and deletes copies the scp transport kept; idempotent. Later calls reconnect. */
    @Override
    public void close() {
        sftp.close();
        scp.close();
    }

    @Override
    public String toString() {
        return "SshSource[" + endpoint.where(Transport.SFTP).replace(", sftp)", ")") + "]";
    }

    // ---------------------------------------------------------------------------------------

    /** A copy the scp transport already holds is handed over locally, before any network transport. */
    private List<Transport> orderFor(WalCopy copy) {
        List<Transport> order = new ArrayList<>(config().transports());
        if (scp.holds(copy.location()) && order.remove(Transport.SCP)) {
            order.add(0, Transport.SCP);
        }
        return order;
    }

    private boolean sftpRefusedRecently(List<String> reasons) {
        Long at = sftpRefusedAtNanos;
        if (at != null && System.nanoTime() - at < SFTP_RETRY_AFTER.toNanos()) {
            reasons.add(endpoint.where(Transport.SFTP) + ": skipped: the host refused the SFTP subsystem "
                    + (System.nanoTime() - at) / 1_000_000_000L + " s ago");
            return true;
        }
        return false;
    }

    private void sftpRefused(SftpRefusedException e, List<String> reasons) {
        boolean first = sftpRefusedAtNanos == null;
        sftpRefusedAtNanos = System.nanoTime();
        boolean scpConfigured = config().transports().contains(Transport.SCP);
        if (first) {
            LOG.warn(
                    "{}{}",
                    e.getMessage(),
                    scpConfigured
                            ? "; using scp -O for this host, SFTP is tried again after " + SFTP_RETRY_AFTER.toMinutes()
                                    + " min"
                            : "");
        }
        reasons.add(e.getMessage()
                + (scpConfigured
                        ? ""
                        : "\nHINT: enable SFTP on the host (Subsystem sftp internal-sftp in sshd_config) or add scp to"
                                + " transports: [sftp, scp]"));
    }

    private SourceUnavailableException noTransport(String what, List<String> reasons) {
        if (reasons.size() == 1) {
            return new SourceUnavailableException(name(), reasons.get(0));
        }
        StringBuilder message = new StringBuilder("source '")
                .append(name())
                .append("' (")
                .append(config().user())
                .append('@')
                .append(config().hostAndPort())
                .append("): no transport could ")
                .append(what)
                .append(':');
        for (String reason : reasons) {
            message.append("\n  ").append(reason.replace("\n", "\n    "));
        }
        return new SourceUnavailableException(name(), message.toString());
    }
}

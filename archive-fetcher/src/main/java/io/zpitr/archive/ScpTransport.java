// Finds and fetches WAL with the system `scp -O`, for hosts that refuse SFTP.
package io.zpitr.archive;

import io.zpitr.archive.SshHostConfig.Transport;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessException;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTimeoutException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scp transport of one {@link SshSource}: the system {@code scp} with {@code -O}, the legacy
 * SCP protocol. OpenSSH 9's scp speaks SFTP by default and fails against a host that refuses the
 * SFTP subsystem exactly like JSch does; only the legacy protocol reaches such a host.
 *
 * <p><b>No listing, so find() copies.</b> The legacy protocol can neither stat nor list; the only
 * way to learn whether a file exists is to copy it. {@link #find} therefore copies
 * {@code <path>/<file>} into a fresh private folder and, if the host says "No such file or
 * directory", copies {@code <path>/*}{@code /<file>} — the remote scp runs its argument through the
 * login shell, which expands the glob. When several dated folders hold the file, every match is
 * sent under the same name and the last one in the shell's (sorted) order is what remains: the
 * newest-named folder's copy. So this transport sees at most one copy: the top-level one, else the
 * newest-named dated one (location {@code <path>/*}{@code /<file>}). The bytes are kept, so the
 * {@link WalCopy} carries the real size and {@link #download} of it only copies locally; a copy
 * that was never downloaded is dropped after {@link #KEPT_COPIES} newer ones, or at {@link #close}.
 * A download of a copy not (or no longer) kept fetches it again.
 *
 * <p>"Missing" is only the host's own "No such file or directory" for exactly the requested path;
 * a refused connection, a refused key, a refused login or any other message is a failure.
 */
final class ScpTransport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ScpTransport.class);
    /** Copies found but not yet downloaded that are kept; a prefetcher finds a few segments ahead. */
    static final int KEPT_COPIES = 16;
    /** A last resort: keepalives end a copy from a silent host after about 45 s. */
    private static final Duration COPY_TIME_LIMIT = Duration.ofMinutes(10);

    private final SshEndpoint endpoint;
    private final ProcessRunner runner;
    private final Path scratchRoot;
    /** location -> private folder holding the fetched bytes; insertion order = age. Guarded by this. */
    private final Map<String, Path> kept = new LinkedHashMap<>();

    private Path scratch;

    ScpTransport(SshEndpoint endpoint, ProcessRunner runner, Path scratchRoot) {
        this.endpoint = endpoint;
        this.runner = runner;
        this.scratchRoot = scratchRoot.toAbsolutePath();
    }

    /** See the class comment: at most one copy, fetched already; empty when the host has none. */
    List<WalCopy> find(WalFileName file) throws SourceUnavailableException, IOException {
        for (String location : List.of(endpoint.topLevel(file), endpoint.datedGlob(file))) {
            Path folder = fetch(location, file);
            if (folder != null) {
                long size = Files.size(folder.resolve(file.name()));
                keep(location, folder);
                return List.of(new WalCopy(endpoint.name(), location, size));
            }
        }
        return List.of();
    }

    /** Writes the copy's bytes into {@code target} (created or truncated), fetching them if not kept. */
    void download(SshEndpoint.Location location, WalCopy copy, Path target)
            throws SourceUnavailableException, IOException {
        Path folder = take(copy.location());
        if (folder == null) {
            folder = fetch(copy.location(), location.file());
            if (folder == null) {
                throw endpoint.failure(
                        Transport.SCP,
                        copy.location() + " is gone: the host says no such file or"
                                + " directory (was it removed since it was found?)");
            }
        }
        try (OutputStream out = new java.io.BufferedOutputStream(
                Files.newOutputStream(
                        target,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE),
                SftpTransport.WRITE_BUFFER)) {
            Files.copy(folder.resolve(location.file().name()), out);
        } finally {
            deleteTree(folder);
        }
    }

    /**
     * For {@code zpitr check}: asks for the archive folder itself. Legacy scp refuses to send a
     * folder without {@code -r} ("not a regular file"), which proves login and folder in one step
     * without copying anything.
     */
    String probe() throws SourceUnavailableException, IOException {
        String path = endpoint.config().remotePath();
        Path folder = newFolder();
        try {
            ProcessResult result = scp(path, folder);
            String stderr = result.stderr().strip();
            if (stderr.equals("scp: " + path + ": not a regular file")) {
                return "scp: logged in as " + endpoint.config().user() + ", " + path + " is a folder";
            }
            if (result.succeeded()) {
                throw endpoint.failure(
                        Transport.SCP,
                        path + " is a file, not a folder"
                                + "\nHINT: path must name the archive folder that archive_command writes to");
            }
            if (isMissing(stderr, path)) {
                throw endpoint.failure(Transport.SCP, "the archive folder " + path + " does not exist on the host");
            }
            throw explain(result, path);
        } finally {
            deleteTree(folder);
        }
    }

    /** Deletes every kept copy; idempotent. */
    @Override
    public synchronized void close() {
        kept.clear();
        if (scratch != null) {
            deleteTree(scratch);
            scratch = null;
        }
    }

    // ---------------------------------------------------------------------------------------

    /** Copies {@code location} into a fresh folder; returns it, or null when the host has no such file. */
    private Path fetch(String location, WalFileName file) throws SourceUnavailableException, IOException {
        Path folder = newFolder();
        boolean keep = false;
        try {
            ProcessResult result = scp(location, folder);
            if (result.succeeded()) {
                if (!Files.isRegularFile(folder.resolve(file.name()))) {
                    throw endpoint.failure(
                            Transport.SCP,
                            "scp of " + location + " reported success but delivered no " + file + ": "
                                    + result.stderr().strip());
                }
                keep = true;
                return folder;
            }
            if (isMissing(result.stderr(), location)) {
                return null;
            }
            throw explain(result, location);
        } finally {
            if (!keep) {
                deleteTree(folder);
            }
        }
    }

    private ProcessResult scp(String remote, Path localFolder) throws SourceUnavailableException {
        endpoint.requireCredentialFiles(Transport.SCP);
        endpoint.requireReachable(Transport.SCP);
        List<String> argv = argv(remote, localFolder);
        try {
            return runner.run(Command.of(argv).timeout(COPY_TIME_LIMIT));
        } catch (ProcessTimeoutException e) {
            throw endpoint.failure(
                    Transport.SCP,
                    "scp of " + remote + " did not finish within " + COPY_TIME_LIMIT.toMinutes()
                            + " min and was killed",
                    e);
        } catch (ProcessException e) {
            throw endpoint.failure(
                    Transport.SCP,
                    "cannot run scp: " + e.getMessage()
                            + "\nHINT: install the OpenSSH client (Debian: apt-get install openssh-client)",
                    e);
        }
    }

    /**
     * The scp command line. {@code -q} is deliberately absent: it silences ssh's own errors
     * ("Host key verification failed.", "Permission denied"), leaving exit status 1 for every
     * failure; {@code LogLevel=ERROR} keeps those and drops banners. The progress meter is off
     * anyway because stdout is not a terminal. {@code -F /dev/null} makes scp use exactly these
     * options, as JSch does, whatever ~/.ssh/config or /etc/ssh/ssh_config say.
     */
    List<String> argv(String remote, Path localFolder) {
        SshHostConfig config = endpoint.config();
        String host = config.host().indexOf(':') >= 0 ? "[" + config.host() + "]" : config.host();
        return List.of(
                "scp",
                "-O",
                "-B",
                "-F",
                "/dev/null",
                "-i",
                config.identityFile().toString(),
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "PreferredAuthentications=publickey",
                "-o",
                "UserKnownHostsFile=" + config.knownHosts(),
                "-o",
                "GlobalKnownHostsFile=/dev/null",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=" + endpoint.connectTimeoutSeconds(),
                "-o",
                "ServerAliveInterval=" + keepaliveSeconds(),
                "-o",
                "ServerAliveCountMax=" + SshSessions.KEEPALIVE_COUNT_MAX,
                "-o",
                "LogLevel=ERROR",
                "-P",
                Integer.toString(config.port()),
                config.user() + "@" + host + ":" + remote,
                localFolder.toString());
    }

    /**
     * ssh gives up on a silent host after about {@code ServerAliveCountMax + 1} unanswered
     * keepalives: an interval of io_timeout / 4 (at least 1 s, ssh's unit) ends a stalled copy
     * after about io_timeout.
     */
    long keepaliveSeconds() {
        return Math.max(1, endpoint.config().ioTimeout().toSeconds() / (SshSessions.KEEPALIVE_COUNT_MAX + 1));
    }

    /** The host answered, and said only that this very path does not exist. */
    private static boolean isMissing(String stderr, String location) {
        List<String> lines = stderr.strip().lines().filter(l -> !l.isBlank()).toList();
        return !lines.isEmpty()
                && lines.stream().allMatch(l -> l.strip().equals("scp: " + location + ": No such file or directory"));
    }

    private SourceUnavailableException explain(ProcessResult result, String location) {
        SshHostConfig config = endpoint.config();
        String stderr = result.stderr().strip();
        if (stderr.contains("Host key verification failed")) {
            return hostKeyRefused(stderr);
        }
        if (stderr.contains("Permission denied (")) {
            return endpoint.failure(
                    Transport.SCP,
                    "public-key authentication as '" + config.user() + "' with "
                            + config.identityFile() + " was refused (" + firstLine(stderr) + ")"
                            + "\nHINT: is that key's public half in ~" + config.user()
                            + "/.ssh/authorized_keys on the host?");
        }
        if (stderr.contains("Connection timed out during banner exchange") || stderr.contains("not responding")) {
            // Hung after the TCP connect (no banner) or in the middle of the copy (keepalives unanswered).
            endpoint.rememberDown();
            return new SshNoFallbackException(
                    config.name(),
                    endpoint.where(Transport.SCP)
                            + ": the host stalled: " + firstLine(stderr) + "; skipping it for archive.down_for"
                            + "\nHINT: is the host frozen or overloaded? archive.connect_timeout and archive.io_timeout bound the waits");
        }
        if (stderr.contains("ssh: connect to host")) {
            // It answered the reachability probe a moment ago and not now: remember it as the probe would.
            endpoint.rememberDown();
            return new SshNoFallbackException(
                    config.name(),
                    endpoint.where(Transport.SCP) + ": host stopped accepting connections: " + firstLine(stderr));
        }
        return endpoint.failure(
                Transport.SCP,
                "scp of " + location + " failed (exit " + result.exitCode() + "): "
                        + (stderr.isEmpty() ? "no message" : stderr.replace("\n", " | ")));
    }

    /**
     * OpenSSH does not print the fingerprint of a key it refuses as unknown; one JSch handshake
     * (same known_hosts, same lookup rule) learns it and words the refusal exactly as the SFTP
     * transport would. Nothing is transferred: the handshake stops at the host key.
     */
    private SourceUnavailableException hostKeyRefused(String stderr) {
        try {
            SshSessions.open(endpoint, Transport.SCP).disconnect();
        } catch (SourceUnavailableException refusal) {
            return refusal;
        }
        return new SshNoFallbackException(
                endpoint.name(),
                endpoint.where(Transport.SCP)
                        + ": host key refused by ssh: " + stderr.replace("\n", " | ")
                        + "\nHINT: check the entry for " + endpoint.config().knownHostsName() + " in "
                        + endpoint.config().knownHosts());
    }

    private static String firstLine(String text) {
        return text.lines().findFirst().orElse("").strip();
    }

    private synchronized void keep(String location, Path folder) {
        Path previous = kept.put(location, folder);
        if (previous != null) {
            deleteTree(previous);
        }
        Iterator<Map.Entry<String, Path>> oldest = kept.entrySet().iterator();
        while (kept.size() > KEPT_COPIES && oldest.hasNext()) {
            Map.Entry<String, Path> entry = oldest.next();
            LOG.debug("{}: dropping the never downloaded copy of {}", endpoint.where(Transport.SCP), entry.getKey());
            deleteTree(entry.getValue());
            oldest.remove();
        }
    }

    /** Whether the bytes of the copy at {@code location} are kept from a {@link #find}. */
    synchronized boolean holds(String location) {
        return kept.containsKey(location);
    }

    private synchronized Path take(String location) {
        return kept.remove(location);
    }

    /** A fresh folder for one scp run; scp names the file itself, and concurrent runs must not meet. */
    private Path newFolder() throws IOException {
        Path root;
        synchronized (this) {
            if (scratch == null || !Files.isDirectory(scratch)) {
                Files.createDirectories(scratchRoot);
                // Owner-only (createTempDirectory's default on POSIX): WAL holds table data.
                scratch = Files.createTempDirectory(scratchRoot, "zpitr-scp-");
            }
            root = scratch;
        }
        return Files.createTempDirectory(root, "copy-");
    }

    private static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            List<Path> all =
                    new ArrayList<>(paths.sorted(Comparator.reverseOrder()).toList());
            for (Path path : all) {
                Files.deleteIfExists(path);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot delete scratch folder {}: {}", root, e.toString());
        }
    }
}

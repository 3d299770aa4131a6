// Finds and fetches WAL over one long-lived JSch SFTP channel, reconnecting once when the session dropped.
package io.zpitr.archive;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;
import io.zpitr.archive.SshHostConfig.Transport;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SFTP transport of one {@link SshSource}: one session and one SFTP channel, opened on first
 * use and kept for every later call, because a prefetcher fetches hundreds of segments through
 * one source. When a call fails and the session turns out to have dropped (host restarted, idle
 * connection cut), it reconnects once and repeats the call.
 *
 * <p>Calls are serialized: a JSch channel carries one request at a time.
 */
final class SftpTransport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SftpTransport.class);
    /** How long the list of dated folders is trusted; a file not found re-reads it anyway. */
    static final Duration FOLDER_LISTING_TTL = Duration.ofSeconds(5);

    private final SshEndpoint endpoint;
    private Session session;
    private ChannelSftp channel;
    private List<String> folders;
    private long foldersReadAtNanos;
    /** The watch over the call in progress, if any: a transfer reports its progress to it. */
    private volatile StallGuard.Watch watch;

    SftpTransport(SshEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    /** See {@link SshSource#find}; empty when the host answered and lacks the file. */
    synchronized List<WalCopy> find(WalFileName file) throws SourceUnavailableException, SftpRefusedException {
        try {
            return call("search " + endpoint.config().remotePath() + " for " + file, sftp -> findOn(sftp, file));
        } catch (IOException e) {
            throw new IllegalStateException("a search writes no local file", e);
        }
    }

    /** The size of the writes into the target file. */
    static final int WRITE_BUFFER = 1 << 20;

    /** Streams one copy into {@code target} (created or truncated). */
    synchronized void download(SshEndpoint.Location location, WalCopy copy, Path target)
            throws SourceUnavailableException, SftpRefusedException, IOException {
        call("download " + copy.location(), sftp -> {
            String remote = location.isGlob() ? resolveGlob(sftp, location.file()) : copy.location();
            // JSch hands over one SFTP packet at a time (32 KiB at most): gathered into 1 MiB
            // writes, which cost zfs-fuse 35% less CPU for the same bytes (docs/restore-guide.md).
            try (TargetStream out = new TargetStream(
                    new java.io.BufferedOutputStream(
                            Files.newOutputStream(
                                    target,
                                    StandardOpenOption.CREATE,
                                    StandardOpenOption.TRUNCATE_EXISTING,
                                    StandardOpenOption.WRITE),
                            WRITE_BUFFER),
                    this::progress)) {
                try {
                    sftp.get(remote, out);
                } catch (SftpException e) {
                    // JSch wraps our own write failure: report it as the IOException it is.
                    out.rethrowWriteFailure();
                    throw e;
                }
            }
            return null;
        });
    }

    /** For {@code zpitr check}: connects and confirms that the archive path is a folder. */
    synchronized String probe() throws SourceUnavailableException, SftpRefusedException {
        String path = endpoint.config().remotePath();
        try {
            SftpATTRS attrs = call("stat " + path, sftp -> sftp.stat(path));
            if (!attrs.isDir()) {
                throw endpoint.failure(
                        Transport.SFTP,
                        path + " is not a folder on the host"
                                + "\nHINT: path must name the archive folder that archive_command writes to");
            }
            return "sftp: logged in as " + endpoint.config().user() + ", " + path + " is a folder";
        } catch (IOException e) {
            throw new IllegalStateException("a stat writes no local file", e);
        }
    }

    /** Ends the channel and the session; idempotent. The next call connects again. */
    @Override
    public synchronized void close() {
        if (channel != null) {
            channel.disconnect();
            channel = null;
        }
        if (session != null) {
            session.disconnect();
            session = null;
        }
        folders = null;
    }

    // ---------------------------------------------------------------------------------------

    private interface SftpCall<T> {
        T run(ChannelSftp sftp) throws SftpException, IOException, SourceUnavailableException;
    }

    /** Runs {@code call} on the open channel; reconnects and repeats once if a reused session had dropped. */
    private <T> T call(String what, SftpCall<T> call)
            throws SourceUnavailableException, SftpRefusedException, IOException {
        boolean reused = isOpen();
        ChannelSftp sftp = open();
        try {
            return guarded(what, sftp, call);
        } catch (SftpException e) {
            if (!reused || isOpen()) {
                throw failed(what, e);
            }
            LOG.info(
                    "{}: the SFTP session dropped ({}); reconnecting once",
                    endpoint.where(Transport.SFTP),
                    e.getMessage());
        }
        close();
        sftp = open();
        try {
            return guarded(what, sftp, call);
        } catch (SftpException e) {
            throw failed(what, e);
        }
    }

    /**
     * Runs {@code call} under a {@link StallGuard}: a request that gets no answer, or a transfer that
     * moves no byte, for io_timeout ends the session (JSch would wait as long as the session
     * lives). Such a host is remembered as down, like one that refused the connection: a stall is a
     * failure of this host for this file, and the next source is asked.
     */
    private <T> T guarded(String what, ChannelSftp sftp, SftpCall<T> call)
            throws SftpException, IOException, SourceUnavailableException {
        Session watched = session;
        try (StallGuard.Watch w = StallGuard.watch(endpoint.config().ioTimeout(), () -> {
            endpoint.rememberDown();
            watched.disconnect();
        })) {
            watch = w;
            try {
                return call.run(sftp);
            } catch (SftpException | IOException | RuntimeException e) {
                if (w.fired()) {
                    close();
                    throw new SshNoFallbackException(
                            endpoint.name(),
                            endpoint.where(Transport.SFTP) + ": cannot "
                                    + what + ": the host stalled (nothing for "
                                    + endpoint.config().ioTimeout().toMillis()
                                    + " ms); skipping it for archive.down_for"
                                    + "\nHINT: is the host frozen, overloaded or its disk hung? archive.io_timeout bounds each wait",
                            e);
                }
                throw e;
            }
        } finally {
            watch = null;
        }
    }

    private void progress() {
        StallGuard.Watch w = watch;
        if (w != null) {
            w.progress();
        }
    }

    private boolean isOpen() {
        return session != null
                && session.isConnected()
                && channel != null
                && channel.isConnected()
                && !channel.isClosed();
    }

    private ChannelSftp open() throws SourceUnavailableException, SftpRefusedException {
        if (isOpen()) {
            return channel;
        }
        close();
        Session fresh = SshSessions.open(endpoint, Transport.SFTP);
        ChannelSftp sftp;
        try {
            sftp = (ChannelSftp) fresh.openChannel("sftp");
            sftp.connect(SshSessions.millis(endpoint.config().ioTimeout()));
        } catch (JSchException e) {
            boolean sessionAlive = fresh.isConnected();
            fresh.disconnect();
            if (sessionAlive) {
                // Logged in fine, but no SFTP: sshd without (or with a broken) sftp Subsystem line.
                // JSch reports sshd's SSH_MSG_CHANNEL_FAILURE as "failed to send channel request".
                throw new SftpRefusedException(
                        endpoint.where(Transport.SFTP) + ": the host refused the SFTP subsystem (" + e.getMessage()
                                + ")",
                        e);
            }
            throw endpoint.failure(
                    Transport.SFTP, "the SSH session ended while opening the SFTP channel: " + e.getMessage(), e);
        }
        session = fresh;
        channel = sftp;
        folders = null;
        return sftp;
    }

    /**
     * A failed SFTP operation. While the session is still up, the host answered and its archive
     * could not be read: no fallback (see {@link SshNoFallbackException}). A session that ended
     * under the call is an ordinary failure; scp may still get through.
     */
    private SourceUnavailableException failed(String what, SftpException e) {
        boolean answered = isOpen();
        if (!answered) {
            close();
        }
        String reason = switch (e.id) {
            case ChannelSftp.SSH_FX_NO_SUCH_FILE -> "no such file or folder (" + e.getMessage() + ")";
            case ChannelSftp.SSH_FX_PERMISSION_DENIED ->
                "permission denied (" + e.getMessage() + ")"
                        + "\nHINT: the login user " + endpoint.config().user()
                        + " must be able to read the archive folder"
                        + " and its files";
            default -> e.getMessage();
        };
        String message = endpoint.where(Transport.SFTP) + ": cannot " + what + ": " + reason;
        return answered
                ? new SshNoFallbackException(endpoint.name(), message, e)
                : new SourceUnavailableException(endpoint.name(), message, e);
    }

    private List<WalCopy> findOn(ChannelSftp sftp, WalFileName file) throws SftpException {
        List<WalCopy> copies = new ArrayList<>();
        stat(sftp, endpoint.topLevel(file)).ifPresent(copies::add);
        boolean listingFromCache = foldersFresh();
        Set<String> searched = new HashSet<>();
        for (String folder : folders(sftp, false)) {
            searched.add(folder);
            stat(sftp, endpoint.inFolder(folder, file)).ifPresent(copies::add);
        }
        if (copies.isEmpty() && listingFromCache) {
            // The file may sit in a dated folder created since the listing was read.
            for (String folder : folders(sftp, true)) {
                if (searched.add(folder)) {
                    stat(sftp, endpoint.inFolder(folder, file)).ifPresent(copies::add);
                }
            }
        }
        return copies;
    }

    /** The copy at {@code location}, or empty when nothing (or no regular file) is there. */
    private Optional<WalCopy> stat(ChannelSftp sftp, String location) throws SftpException {
        try {
            SftpATTRS attrs = sftp.stat(location);
            if (!attrs.isReg()) {
                LOG.debug("{}: {} is not a regular file; ignored", endpoint.where(Transport.SFTP), location);
                return Optional.empty();
            }
            return Optional.of(new WalCopy(endpoint.name(), location, attrs.getSize()));
        } catch (SftpException e) {
            if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private boolean foldersFresh() {
        return folders != null && System.nanoTime() - foldersReadAtNanos < FOLDER_LISTING_TTL.toNanos();
    }

    /**
     * The folders directly below the archive path, newest-named first. Hidden ones are skipped (a
     * shell's {@code *} skips them too), and so are names with characters outside
     * {@link SshEndpoint#SAFE_FOLDER}: they could not be used safely by the scp fallback or in a
     * JSch path, which treats {@code *} and {@code ?} as patterns. A symbolic link is searched
     * like a folder; if it is not one, the stat below it simply finds nothing.
     */
    private List<String> folders(ChannelSftp sftp, boolean reread) throws SftpException {
        if (!reread && foldersFresh()) {
            return folders;
        }
        List<String> names = new ArrayList<>();
        sftp.ls(endpoint.config().remotePath(), entry -> {
            String name = entry.getFilename();
            SftpATTRS attrs = entry.getAttrs();
            if ((attrs.isDir() || attrs.isLink()) && !name.startsWith(".")) {
                if (SshEndpoint.SAFE_FOLDER.matcher(name).matches()) {
                    names.add(name);
                } else {
                    LOG.debug(
                            "{}: folder '{}' has an unusual name; not searched", endpoint.where(Transport.SFTP), name);
                }
            }
            return ChannelSftp.LsEntrySelector.CONTINUE;
        });
        names.sort(Comparator.reverseOrder());
        folders = List.copyOf(names);
        foldersReadAtNanos = System.nanoTime();
        return folders;
    }

    /** A {@code <path>/*}{@code /<file>} location (from the scp transport): the newest-named folder's copy. */
    private String resolveGlob(ChannelSftp sftp, WalFileName file) throws SftpException, SourceUnavailableException {
        for (WalCopy copy : findOn(sftp, file)) {
            if (!copy.location().equals(endpoint.topLevel(file))) {
                return copy.location();
            }
        }
        throw endpoint.failure(
                Transport.SFTP,
                "no copy of " + file + " is left in any folder below "
                        + endpoint.config().remotePath() + " (it was there moments ago)");
    }

    /** The target file's stream, remembering a failed write so it is not mistaken for a remote failure. */
    private static final class TargetStream extends FilterOutputStream {
        private final Runnable onProgress;
        private IOException writeFailure;

        TargetStream(OutputStream out, Runnable onProgress) {
            super(out);
            this.onProgress = onProgress;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            onProgress.run();
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                writeFailure = e;
                throw e;
            }
        }

        @Override
        public void write(int b) throws IOException {
            onProgress.run();
            try {
                out.write(b);
            } catch (IOException e) {
                writeFailure = e;
                throw e;
            }
        }

        void rethrowWriteFailure() throws IOException {
            if (writeFailure != null) {
                throw writeFailure;
            }
        }
    }
}

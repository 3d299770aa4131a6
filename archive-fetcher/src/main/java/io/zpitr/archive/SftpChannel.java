// What the SFTP transport needs of one SFTP session: stat, list, read a file; either OpenSSH's or JSch's.
package io.zpitr.archive;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * One SFTP session to an archive host, as {@link SftpTransport} uses it. Failures are JSch's
 * {@link SftpException} with the SFTP status as its id ({@link ChannelSftp#SSH_FX_NO_SUCH_FILE}
 * for "no such file"), whichever client carries the session; a session that ended under a call
 * reports {@link #isOpen()} false afterwards. Not thread-safe: the transport serializes calls.
 */
interface SftpChannel extends AutoCloseable {

    /** What {@code path} is (symbolic links followed). */
    Attrs stat(String path) throws SftpException;

    /** The entries of the folder {@code path}, without {@code .} and {@code ..}; links not followed. */
    List<Entry> list(String path) throws SftpException;

    /**
     * Writes the bytes of the file {@code path} into {@code out}, in order. A failed write into
     * {@code out} is thrown as the IOException it is (or, from JSch, wrapped: see the transport).
     */
    void get(String path, OutputStream out) throws SftpException, IOException;

    /** The session still carries requests. */
    boolean isOpen();

    /** Ends the session (the cut-off of a stalled call too: a blocked call then fails); idempotent. */
    @Override
    void close();

    /** A file's type and size. */
    record Attrs(boolean isRegularFile, boolean isDirectory, boolean isLink, long size) {}

    /** One folder entry. */
    record Entry(String name, Attrs attrs) {}

    /** JSch's SFTP channel over its own session. */
    final class Jsch implements SftpChannel {
        private final Session session;
        private final ChannelSftp channel;

        Jsch(Session session, ChannelSftp channel) {
            this.session = session;
            this.channel = channel;
        }

        @Override
        public Attrs stat(String path) throws SftpException {
            return attrs(channel.stat(path));
        }

        @Override
        public List<Entry> list(String path) throws SftpException {
            List<Entry> entries = new ArrayList<>();
            channel.ls(path, entry -> {
                String name = entry.getFilename();
                if (!name.equals(".") && !name.equals("..")) {
                    entries.add(new Entry(name, attrs(entry.getAttrs())));
                }
                return ChannelSftp.LsEntrySelector.CONTINUE;
            });
            return entries;
        }

        @Override
        public void get(String path, OutputStream out) throws SftpException {
            channel.get(path, out);
        }

        @Override
        public boolean isOpen() {
            return session.isConnected() && channel.isConnected() && !channel.isClosed();
        }

        @Override
        public void close() {
            channel.disconnect();
            session.disconnect();
        }

        private static Attrs attrs(SftpATTRS a) {
            return new Attrs(a.isReg(), a.isDir(), a.isLink(), a.getSize());
        }
    }
}

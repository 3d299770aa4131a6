// An SFTP session carried by the system ssh: zpitr speaks SFTP version 3 over the pipes of `ssh -s HOST sftp`.
package io.zpitr.archive;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.SftpException;
import io.zpitr.process.Command;
import io.zpitr.process.Conversation;
import io.zpitr.process.ProcessRunner;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One SFTP session whose SSH transport is the system's OpenSSH client: {@code ssh} with the host's
 * options ({@link SshEndpoint#openSshOptions}) asks for the {@code sftp} subsystem, and this class
 * speaks SFTP version 3 (draft-ietf-secsh-filexfer-02, what OpenSSH's sftp-server speaks) over the
 * child's stdin and stdout. Why: OpenSSH decrypts with AES-NI from its first byte, at about a third of
 * the CPU a warm JVM spends per GiB in JSch and a tenth of a cold one's (docs/restore-guide.md,
 * "OpenSSH carries SFTP"), and its login costs no key exchange compiled on the fly. The host key
 * check, the identity and the keepalives are those of the scp fallback.
 *
 * <p>A file is read with up to {@link #IN_FLIGHT} read requests of {@link #READ_SIZE} outstanding,
 * as OpenSSH's own sftp does; a short read asks again for the rest. Bytes reach the caller's stream
 * in file order.
 *
 * <p>Bounded waits: the caller watches each call (a {@link StallGuard} that closes this session,
 * which kills ssh and makes the blocked read fail); ssh's keepalives end a session to a silent host
 * after about io_timeout. ssh ends when its stdin does, so it cannot outlive this JVM.
 */
final class OpenSshSftp implements SftpChannel {
    /** Bytes asked for by one read request; every SFTP server serves this much at once. */
    static final int READ_SIZE = 64 << 10;
    /** Read requests outstanding at once: 2 MiB in flight. */
    static final int IN_FLIGHT = 32;
    /** The largest packet accepted from the server (OpenSSH's own bound). */
    private static final int MAX_PACKET = 256 << 10;

    private static final int INIT = 1;
    private static final int VERSION = 2;
    private static final int OPEN = 3;
    private static final int CLOSE = 4;
    private static final int READ = 5;
    private static final int OPENDIR = 11;
    private static final int READDIR = 12;
    private static final int STAT = 17;
    private static final int STATUS = 101;
    private static final int HANDLE = 102;
    private static final int DATA = 103;
    private static final int NAME = 104;
    private static final int ATTRS = 105;

    private static final int FX_OK = 0;
    private static final int FX_EOF = 1;
    private static final int FX_FAILURE = 4;
    private static final int FX_BAD_MESSAGE = 5;
    private static final int OPEN_READ = 1;

    private final Conversation ssh;
    private final DataInputStream in;
    private final DataOutputStream out;
    private int nextId = 1;
    private volatile boolean open = true;
    /** The packet being built; calls are serialized. */
    private final ByteBuffer packet = ByteBuffer.allocate(8 << 10);

    private OpenSshSftp(Conversation ssh) {
        this.ssh = ssh;
        this.in = new DataInputStream(new BufferedInputStream(ssh.stdout(), 256 << 10));
        this.out = new DataOutputStream(new BufferedOutputStream(ssh.stdin(), 64 << 10));
    }

    /** ssh could not be started, or ended before the SFTP server answered; what it said on stderr. */
    static final class NotStarted extends Exception {
        private final boolean stalled;

        NotStarted(String message, boolean stalled, Throwable cause) {
            super(message, cause);
            this.stalled = stalled;
        }

        /** Nothing came for the whole limit: ssh was killed (a hung host, or one overloaded). */
        boolean stalled() {
            return stalled;
        }
    }

    /** The command line: the host's OpenSSH options, AES-GCM first, and the sftp subsystem. */
    static List<String> argv(SshEndpoint endpoint) {
        SshHostConfig config = endpoint.config();
        List<String> argv = new ArrayList<>(List.of("ssh"));
        argv.addAll(endpoint.openSshOptions());
        argv.addAll(List.of(
                "-o",
                "Ciphers=" + CIPHERS,
                "-o",
                "ForwardAgent=no",
                "-o",
                "ForwardX11=no",
                "-o",
                "ClearAllForwardings=yes",
                "-o",
                "RequestTTY=no",
                "-o",
                "ControlMaster=no",
                "-o",
                "ControlPath=none",
                "-e",
                "none",
                "-l",
                config.user(),
                "-p",
                Integer.toString(config.port()),
                "-s",
                "--",
                config.host(),
                "sftp"));
        return argv;
    }

    /**
     * AES-GCM first, as for JSch (it needs no separate MAC; on this machine's AES-NI OpenSSH spent 0.6
     * CPU-s per GiB in aes128-gcm against 0.9 in chacha20-poly1305); the rest as OpenSSH offers them.
     * {@code -Dzpitr.ssh.ciphers} replaces the list for a measurement.
     */
    static final String CIPHERS = System.getProperty(
            "zpitr.ssh.ciphers",
            "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr");

    /**
     * Starts ssh and waits for the SFTP server's version, at most {@code limit} (then ssh is killed:
     * {@link NotStarted#stalled()}).
     *
     * @throws NotStarted ssh is missing, or ended first (refused key, unknown host key, no SFTP
     *                    subsystem...); the caller words the failure
     */
    static OpenSshSftp start(SshEndpoint endpoint, ProcessRunner runner, Duration limit) throws NotStarted {
        Conversation ssh;
        try {
            ssh = runner.converse(Command.of(argv(endpoint)));
        } catch (RuntimeException e) {
            throw new NotStarted(e.getMessage(), false, e);
        }
        OpenSshSftp sftp = new OpenSshSftp(ssh);
        StallGuard.Watch watch = StallGuard.watch(limit, ssh::close);
        try (watch) {
            sftp.send(INIT, -1, b -> b.putInt(3));
            sftp.flush();
            ByteBuffer version = sftp.receive();
            if (version.get() != VERSION) {
                throw sftp.protocolError("the server's first packet is not SSH_FXP_VERSION");
            }
            return sftp;
        } catch (SftpException e) {
            sftp.close();
            String said = ssh.stderr(Duration.ofSeconds(1)).strip();
            throw new NotStarted(said.isEmpty() ? String.valueOf(e.getMessage()) : said, watch.fired(), e);
        }
    }

    @Override
    public Attrs stat(String path) throws SftpException {
        int id = id();
        ByteBuffer reply = call(STAT, id, b -> putString(b, path));
        int type = reply.get();
        expectId(reply, id);
        if (type == ATTRS) {
            return attrs(reply);
        }
        throw statusFailure(type, reply, "stat " + path);
    }

    @Override
    public List<Entry> list(String path) throws SftpException {
        byte[] handle = openHandle(OPENDIR, b -> putString(b, path), "list " + path);
        List<Entry> entries = new ArrayList<>();
        try {
            while (true) {
                int id = id();
                ByteBuffer reply = call(READDIR, id, b -> putBytes(b, handle));
                int type = reply.get();
                expectId(reply, id);
                if (type == NAME) {
                    for (int count = reply.getInt(); count > 0; count--) {
                        String name = getString(reply);
                        getString(reply); // the long name, ls -l style
                        Attrs attrs = attrs(reply);
                        if (!name.equals(".") && !name.equals("..")) {
                            entries.add(new Entry(name, attrs));
                        }
                    }
                } else if (type == STATUS && reply.getInt() == FX_EOF) {
                    return entries;
                } else {
                    reply.position(reply.position() - (type == STATUS ? 4 : 0));
                    throw statusFailure(type, reply, "list " + path);
                }
            }
        } finally {
            closeHandle(handle);
        }
    }

    @Override
    public void get(String path, OutputStream target) throws SftpException, IOException {
        byte[] handle = openHandle(
                OPEN,
                b -> {
                    putString(b, path);
                    b.putInt(OPEN_READ);
                    b.putInt(0); // no attributes
                },
                "open " + path);
        Map<Integer, long[]> pending = new HashMap<>();
        boolean done = false;
        try {
            ArrayDeque<long[]> gaps = new ArrayDeque<>();
            TreeMap<Long, byte[]> early = new TreeMap<>();
            long next = 0;
            long eof = Long.MAX_VALUE;
            long written = 0;
            while (true) {
                boolean sent = false;
                while (pending.size() < IN_FLIGHT && (!gaps.isEmpty() || next < eof)) {
                    long[] request;
                    if (gaps.isEmpty()) {
                        request = new long[] {next, READ_SIZE};
                        next += READ_SIZE;
                    } else {
                        request = gaps.poll();
                    }
                    if (request[0] >= eof) {
                        continue;
                    }
                    int id = id();
                    send(READ, id, b -> {
                        putBytes(b, handle);
                        b.putLong(request[0]);
                        b.putInt((int) request[1]);
                    });
                    pending.put(id, request);
                    sent = true;
                }
                if (sent) {
                    flush();
                }
                if (pending.isEmpty()) {
                    break;
                }
                ByteBuffer reply = receive();
                int type = reply.get();
                long[] request = pending.remove(reply.getInt());
                if (request == null) {
                    throw protocolError("an answer to no read request of " + path);
                }
                if (type == DATA) {
                    int length = reply.getInt();
                    if (length <= 0 || length > request[1] || length != reply.remaining()) {
                        throw protocolError("a read of " + path + " answered with " + length + " bytes");
                    }
                    if (length < request[1]) {
                        gaps.add(new long[] {request[0] + length, request[1] - length});
                    }
                    if (request[0] == written) {
                        target.write(reply.array(), reply.position(), length);
                        written += length;
                        for (byte[] queued; (queued = early.remove(written)) != null; ) {
                            target.write(queued);
                            written += queued.length;
                        }
                    } else {
                        byte[] data = new byte[length];
                        reply.get(data);
                        early.put(request[0], data);
                    }
                } else if (type == STATUS && reply.getInt() == FX_EOF) {
                    eof = Math.min(eof, request[0]);
                } else {
                    reply.position(reply.position() - (type == STATUS ? 4 : 0));
                    throw statusFailure(type, reply, "read " + path);
                }
            }
            if (written != eof || !early.isEmpty()) {
                throw new SftpException(
                        FX_FAILURE,
                        "read " + path + ": the file changed while it was read (" + written + " bytes in order, end at "
                                + eof + ")");
            }
            done = true;
        } finally {
            if (done || pending.isEmpty()) {
                closeHandle(handle);
            } else {
                // Answers to the requests still out would be read as answers to the next call.
                close();
            }
        }
    }

    @Override
    public boolean isOpen() {
        return open && ssh.isAlive();
    }

    @Override
    public void close() {
        open = false;
        ssh.close();
    }

    // ---------------------------------------------------------------------------------------

    private interface Body {
        void put(ByteBuffer b);
    }

    private int id() {
        int id = nextId;
        nextId = nextId == Integer.MAX_VALUE ? 1 : nextId + 1;
        return id;
    }

    private byte[] openHandle(int type, Body body, String what) throws SftpException {
        int id = id();
        ByteBuffer reply = call(type, id, body);
        int replyType = reply.get();
        expectId(reply, id);
        if (replyType == HANDLE) {
            return getBytes(reply);
        }
        throw statusFailure(replyType, reply, what);
    }

    private void closeHandle(byte[] handle) throws SftpException {
        if (!isOpen()) {
            return;
        }
        int id = id();
        ByteBuffer reply = call(CLOSE, id, b -> putBytes(b, handle));
        int type = reply.get();
        expectId(reply, id);
        if (type != STATUS || reply.getInt() != FX_OK) {
            throw protocolError("the server did not confirm closing a handle");
        }
    }

    private ByteBuffer call(int type, int id, Body body) throws SftpException {
        send(type, id, body);
        flush();
        return receive();
    }

    /** One packet: length, type, id (unless {@code id} is negative: INIT), body. */
    private void send(int type, int id, Body body) throws SftpException {
        ByteBuffer b = packet.clear();
        b.put((byte) type);
        if (id >= 0) {
            b.putInt(id);
        }
        body.put(b);
        b.flip();
        try {
            out.writeInt(b.remaining());
            out.write(b.array(), 0, b.remaining());
        } catch (IOException e) {
            throw lost(e);
        }
    }

    private void flush() throws SftpException {
        try {
            out.flush();
        } catch (IOException e) {
            throw lost(e);
        }
    }

    /** The next packet, positioned at its type. */
    private ByteBuffer receive() throws SftpException {
        try {
            int length = in.readInt();
            if (length < 1 || length > MAX_PACKET) {
                throw protocolError("a packet of " + length + " bytes from the server");
            }
            byte[] packet = new byte[length];
            in.readFully(packet);
            return ByteBuffer.wrap(packet);
        } catch (IOException e) {
            throw lost(e);
        }
    }

    private SftpException lost(IOException e) {
        open = false;
        String said = ssh.stderr(Duration.ofMillis(200)).strip();
        SftpException lost = new SftpException(
                ChannelSftp.SSH_FX_CONNECTION_LOST,
                "the SSH session ended"
                        + (said.isEmpty()
                                ? (e instanceof EOFException ? "" : " (" + e.getMessage() + ")")
                                : ": " + said));
        lost.initCause(e);
        return lost;
    }

    private SftpException protocolError(String what) {
        close();
        return new SftpException(FX_BAD_MESSAGE, "SFTP protocol error: " + what);
    }

    private void expectId(ByteBuffer reply, int id) throws SftpException {
        if (reply.getInt() != id) {
            throw protocolError("an answer to another request than the one sent");
        }
    }

    /** A STATUS reply (positioned at its code) as the failure JSch would throw; anything else is a protocol error. */
    private SftpException statusFailure(int type, ByteBuffer reply, String what) {
        if (type != STATUS) {
            return protocolError("an unexpected answer (type " + type + ") to " + what);
        }
        int code = reply.getInt();
        String message = reply.remaining() >= 4 ? getString(reply) : "";
        return new SftpException(code == FX_OK ? FX_FAILURE : code, message.isEmpty() ? "status " + code : message);
    }

    private static Attrs attrs(ByteBuffer b) {
        int flags = b.getInt();
        long size = (flags & 0x1) != 0 ? b.getLong() : 0;
        if ((flags & 0x2) != 0) {
            b.getInt(); // uid
            b.getInt(); // gid
        }
        int permissions = (flags & 0x4) != 0 ? b.getInt() : 0;
        if ((flags & 0x8) != 0) {
            b.getInt(); // atime
            b.getInt(); // mtime
        }
        if ((flags & 0x80000000) != 0) {
            for (int count = b.getInt(); count > 0; count--) {
                getBytes(b);
                getBytes(b);
            }
        }
        int kind = permissions & 0170000;
        return new Attrs(kind == 0100000, kind == 0040000, kind == 0120000, size);
    }

    private static void putString(ByteBuffer b, String s) {
        putBytes(b, s.getBytes(StandardCharsets.UTF_8));
    }

    private static void putBytes(ByteBuffer b, byte[] bytes) {
        b.putInt(bytes.length);
        b.put(bytes);
    }

    private static byte[] getBytes(ByteBuffer b) {
        byte[] bytes = new byte[b.getInt()];
        b.get(bytes);
        return bytes;
    }

    private static String getString(ByteBuffer b) {
        return new String(getBytes(b), StandardCharsets.UTF_8);
    }
}

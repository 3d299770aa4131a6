// wal-fetch under bin/zpitr: answer the launcher first, then stay on as the prefetcher.
package io.zpitr.appliance.wal;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol between {@code bin/zpitr} and a wal-fetch JVM it starts with {@value #ENV}=1 (in a
 * session of its own, in {@code /}): the JVM's standard output is a pipe the launcher reads one
 * line from, {@code zpitr-exit N}; the launcher exits N at once, so PostgreSQL goes on replaying,
 * while the JVM — warm, its SSH sessions open — stays on as the spool's prefetcher. Before it does,
 * it lets go of PostgreSQL's file descriptors (its log, whose reader waits for every writer to
 * close): standard input and output become {@code /dev/null}, standard error the spool's
 * {@code prefetch.log}. This spares the second JVM and the second set of SSH handshakes that a
 * separately started prefetcher costs before its first segment (measured: bench/).
 */
public final class LauncherHandoff {
    private static final Logger LOG = LoggerFactory.getLogger(LauncherHandoff.class);
    /** Set by the launcher when it reads the exit code from the pipe on standard output. */
    public static final String ENV = "ZPITR_HANDOFF";
    private static final String LINE = "zpitr-exit ";
    private static final int O_RDWR = 02;
    private static final int O_WRONLY = 01;
    private static final int O_CREAT = 0100;
    private static final int O_APPEND = 02000;

    private static volatile boolean released;

    /** The C library calls used: open and dup2, which the JDK does not offer for fds 0-2. */
    interface LibC extends Library {
        int open(String path, int flags, int mode);

        int dup2(int oldFd, int newFd);

        int close(int fd);
    }

    private LauncherHandoff() {
    }

    /** Whether the launcher waits for the exit line on our standard output. */
    public static boolean requested() {
        return "1".equals(System.getenv(ENV));
    }

    /** Sends the exit code if the launcher waits for it and it was not sent yet; {@code Main} calls this last. */
    public static void exiting(int code) {
        if (requested() && !released) {
            sendExitCode(code);
        }
    }

    /**
     * Gives the launcher {@code code} and lets go of PostgreSQL's descriptors; the caller then
     * goes on in the background. Logging continues into {@code log}.
     */
    public static void release(int code, Path log) {
        sendExitCode(code);
        System.err.flush();
        try {
            LibC c = Native.load("c", LibC.class);
            int nul = c.open("/dev/null", O_RDWR, 0);
            int out = c.open(log.toString(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (nul >= 0) {
                c.dup2(nul, 0);
                c.dup2(nul, 1);
                c.close(nul);
            }
            if (out >= 0) {
                c.dup2(out, 2);
                c.close(out);
            }
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            // The launcher has its answer; what is left is only where our later log lines go.
            System.setErr(new PrintStream(PrintStream.nullOutputStream()));
            LOG.debug("could not detach from the launcher's descriptors: {}", e.toString());
        }
    }

    private static void sendExitCode(int code) {
        released = true;
        PrintStream out = System.out;
        out.write((LINE + code + "\n").getBytes(StandardCharsets.US_ASCII), 0, LINE.length() + Integer.toString(code).length() + 1);
        out.flush();
    }
}

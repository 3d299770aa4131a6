// A program this JVM talks to over its stdin and stdout for as long as it needs it (ssh carrying an SFTP session).
package io.zpitr.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running program whose stdin and stdout belong to the caller; its stderr is kept up to a bound
 * by a daemon thread. {@link #close} ends it (SIGKILL if it has not ended by itself) and writes the
 * runner's one debug line. The program cannot outlive this JVM by much: its stdin is a pipe from
 * this process, and a program that ends on end-of-input (ssh does) ends when this JVM does, however
 * it ends. Started by {@link ProcessRunner#converse}.
 */
public final class Conversation implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Conversation.class);

    private final List<String> argv;
    private final Process process;
    private final BoundedBuffer stderr;
    private final Thread pump;
    private final long startNanos;
    private boolean closed;

    Conversation(List<String> argv, Process process, int stderrLimit, long startNanos) {
        this.argv = argv;
        this.process = process;
        this.stderr = new BoundedBuffer(stderrLimit);
        this.startNanos = startNanos;
        this.pump = new Thread(this::pumpStderr, "zpitr-stderr-" + process.pid());
        pump.setDaemon(true);
        pump.start();
    }

    private void pumpStderr() {
        byte[] buffer = new byte[4096];
        try (InputStream in = process.getErrorStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                stderr.write(buffer, 0, n);
            }
        } catch (IOException e) {
            // the stream closed under us: what was read is kept
        }
    }

    /** What the program writes. */
    public InputStream stdout() {
        return process.getInputStream();
    }

    /** What the program reads. */
    public OutputStream stdin() {
        return process.getOutputStream();
    }

    /** Whether the program still runs. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** Its pid, for messages. */
    public long pid() {
        return process.pid();
    }

    /**
     * What it wrote to stderr so far. After the program has ended, waits up to {@code drain} for the
     * pump to read the rest.
     */
    public String stderr(Duration drain) {
        if (!process.isAlive()) {
            try {
                pump.join(Math.max(1, drain.toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return stderr.text();
    }

    /** Ends the program now (SIGKILL) unless it has ended; idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // the program has gone already
        }
        process.destroyForcibly();
        String exit;
        try {
            exit = process.waitFor(5, TimeUnit.SECONDS) ? "exit " + process.exitValue() : "still running after SIGKILL";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exit = "not waited for";
        }
        LOG.debug(
                "{} (conversation, {}, {} ms)",
                String.join(" ", argv),
                exit,
                (System.nanoTime() - startNanos) / 1_000_000);
    }
}

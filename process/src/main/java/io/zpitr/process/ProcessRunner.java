// Runs every external process of zpitr: argv list, no shell, timeout, bounded stderr, one log line.
package io.zpitr.process;

import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.PumpStreamHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way zpitr starts a program. The argv goes to the kernel as a list (Commons Exec with
 * quoting disabled), never through {@code sh -c}; a command past its time limit is killed; stderr
 * is kept up to a bound; each command gets one debug log line with its exit status and duration.
 *
 * <p>A non-zero exit status is not an exception here: callers map it (see
 * {@link ProcessResult#requireSuccess()}). Starting failures and time-outs are exceptions.
 * Thread-safe and stateless: share one instance.
 */
public class ProcessRunner {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessRunner.class);

    /**
     * Runs the command to its end.
     *
     * @throws ProcessTimeoutException when it outlived its time limit (it was killed)
     * @throws ProcessException        when it could not be started
     */
    public ProcessResult run(Command command) {
        List<String> argv = command.argv();
        CommandLine line = new CommandLine(argv.get(0));
        for (String arg : argv.subList(1, argv.size())) {
            line.addArgument(arg, false);
        }
        BoundedBuffer stderr = new BoundedBuffer(command.stderrLimit());
        BoundedBuffer stdout = command.stdout() == null ? new BoundedBuffer(command.stdoutLimit()) : null;
        DefaultExecutor executor = DefaultExecutor.builder().get();
        executor.setExitValues(null);
        executor.setStreamHandler(
                command.stdin() != null || command.stdout() != null
                        ? new StreamingPumps(stdout != null ? stdout : command.stdout(), stderr, command.stdin())
                        : new PumpStreamHandler(stdout, stderr, null));
        Duration limit = command.timeout();
        ExecuteWatchdog watchdog = null;
        KillSwitch kill = command.killSwitch();
        if (limit != null && !limit.isZero()) {
            watchdog = ExecuteWatchdog.builder().setTimeout(limit).get();
        } else if (kill != null) {
            watchdog = ExecuteWatchdog.builder()
                    .setTimeout(ExecuteWatchdog.INFINITE_TIMEOUT_DURATION)
                    .get();
        }
        if (watchdog != null) {
            executor.setWatchdog(watchdog);
        }
        if (kill != null) {
            ExecuteWatchdog armed = watchdog;
            kill.arm(() -> killWhenStarted(armed));
        }
        long start = System.nanoTime();
        int exit;
        try {
            Map<String, String> env = command.environment();
            exit = env == null ? executor.execute(line) : executor.execute(line, env);
        } catch (IOException e) {
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            LOG.debug("{} (could not run, {} ms)", command, took.toMillis());
            throw new ProcessException(
                    "cannot run '" + argv.get(0) + "': " + e.getMessage() + "\nHINT: is it installed and on the PATH?",
                    e);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        if (kill != null && kill.reason() != null && watchdog.killedProcess()) {
            LOG.debug("{} (killed after {} ms: {})", command, took.toMillis(), kill.reason());
            throw new ProcessException("'" + command + "' was stopped: " + kill.reason()
                    + (stderr.text().isBlank() ? "" : ": " + stderr.text().strip()));
        }
        if (watchdog != null && watchdog.killedProcess()) {
            LOG.debug("{} (killed after {} ms)", command, took.toMillis());
            throw new ProcessTimeoutException(argv, limit, stderr.text());
        }
        LOG.debug("{} (exit {}, {} ms)", command, exit, took.toMillis());
        if (stdout != null && stdout.truncated()) {
            throw new ProcessException("'" + command + "' wrote more than " + command.stdoutLimit()
                    + " bytes to stdout; refusing to keep it in memory");
        }
        return new ProcessResult(
                argv, exit, stdout == null ? "" : stdout.text(), stderr.text(), stderr.truncated(), took);
    }

    private static void killWhenStarted(ExecuteWatchdog watchdog) {
        // destroyProcess() waits until the process has started (or failed to), then kills it.
        watchdog.destroyProcess();
    }

    /**
     * Starts a command that must outlive this JVM (the WAL prefetcher): stdin from /dev/null,
     * stdout and stderr appended to {@code log}, no waiting. Commons Exec would tie the child's
     * streams to pump threads of this JVM, which die with it; the child would then die of SIGPIPE
     * on its next log line. So this one case uses {@link ProcessBuilder} with file redirects.
     * The caller puts {@code setsid} first in the argv when the child must also leave this
     * process group (PostgreSQL signals the whole group of its restore_command). The child runs in
     * {@code /}.
     */
    public void startDetached(Command command, java.nio.file.Path log) {
        ProcessBuilder builder = new ProcessBuilder(command.argv())
                // Working in "/", the child keeps no file system busy (a clone to destroy, say).
                .directory(new File("/"))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        if (command.environment() != null) {
            builder.environment().clear();
            builder.environment().putAll(command.environment());
        }
        long start = System.nanoTime();
        try {
            Process p = builder.start();
            LOG.debug(
                    "{} (started detached as pid {}, {} ms)",
                    command,
                    p.pid(),
                    (System.nanoTime() - start) / 1_000_000);
        } catch (IOException e) {
            throw new ProcessException("cannot start '" + command.argv().get(0) + "': " + e.getMessage(), e);
        }
    }
    /**
     * The pumps of a command that streams (a {@code zfs send} into a receive, a receive from a
     * send): commons-exec's pumps copy 1 KiB at a time, which held a send over ssh to about a fifth
     * of what the same pipeline does in a shell (bench/replicate.sh); 64 KiB reads keep up with it.
     */
    private static final class StreamingPumps extends PumpStreamHandler {
        static final int BUFFER = 64 << 10;

        StreamingPumps(java.io.OutputStream out, java.io.OutputStream err, java.io.InputStream in) {
            super(out, err, in);
        }

        @Override
        protected Thread createPump(java.io.InputStream is, java.io.OutputStream os, boolean closeWhenExhausted) {
            Thread t = new Thread(
                    new org.apache.commons.exec.StreamPumper(is, os, closeWhenExhausted, BUFFER), "zpitr-stream-pump");
            t.setDaemon(true);
            return t;
        }
    }
}

// One external program invocation: its argv, its time limit and where its streams go.
package io.zpitr.process;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * An external command as an argv list. There is no shell anywhere: each element reaches the
 * program as one argument, exactly as given.
 *
 * <p>By default stdout is captured (bounded by {@link #stdoutLimit}) and stdin is closed. A
 * command that streams large data (a {@code zfs send}) sets {@link #stdoutTo} instead; one that
 * consumes a stream (a {@code zfs receive}) sets {@link #stdinFrom}.
 */
public final class Command {
    /** Default time limit of a command that does not stream data. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);
    /** Stderr beyond this many bytes is dropped (the start is kept: that is where tools explain). */
    public static final int DEFAULT_STDERR_LIMIT = 64 * 1024;
    /** Captured stdout beyond this many bytes fails the command rather than eat the heap. */
    public static final int DEFAULT_STDOUT_LIMIT = 256 * 1024 * 1024;

    private final List<String> argv;
    private final Duration timeout;
    private final InputStream stdin;
    private final OutputStream stdout;
    private final int stderrLimit;
    private final int stdoutLimit;
    private final java.util.Map<String, String> environment;
    private final KillSwitch killSwitch;

    private Command(
            List<String> argv,
            Duration timeout,
            InputStream stdin,
            OutputStream stdout,
            int stderrLimit,
            int stdoutLimit,
            java.util.Map<String, String> environment) {
        this(argv, timeout, stdin, stdout, stderrLimit, stdoutLimit, environment, null);
    }

    private Command(
            List<String> argv,
            Duration timeout,
            InputStream stdin,
            OutputStream stdout,
            int stderrLimit,
            int stdoutLimit,
            java.util.Map<String, String> environment,
            KillSwitch killSwitch) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("a command needs at least the program name");
        }
        for (String arg : argv) {
            Objects.requireNonNull(arg, "argv element");
            if (arg.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("argv element contains a NUL byte");
            }
        }
        this.argv = List.copyOf(argv);
        this.timeout = timeout;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderrLimit = stderrLimit;
        this.stdoutLimit = stdoutLimit;
        this.environment = environment;
        this.killSwitch = killSwitch;
    }

    public static Command of(String program, String... args) {
        List<String> all = new java.util.ArrayList<>(args.length + 1);
        all.add(program);
        all.addAll(List.of(args));
        return new Command(all, DEFAULT_TIMEOUT, null, null, DEFAULT_STDERR_LIMIT, DEFAULT_STDOUT_LIMIT, null);
    }

    public static Command of(List<String> argv) {
        return new Command(argv, DEFAULT_TIMEOUT, null, null, DEFAULT_STDERR_LIMIT, DEFAULT_STDOUT_LIMIT, null);
    }

    /** A time limit; {@code null} or zero means none (for streams whose length is unknown). */
    public Command timeout(Duration limit) {
        return new Command(argv, limit, stdin, stdout, stderrLimit, stdoutLimit, environment, killSwitch);
    }

    public Command stdinFrom(InputStream in) {
        return new Command(argv, timeout, in, stdout, stderrLimit, stdoutLimit, environment, killSwitch);
    }

    /** Streams stdout to {@code out} instead of capturing it; the result's stdout is then empty. */
    public Command stdoutTo(OutputStream out) {
        return new Command(argv, timeout, stdin, out, stderrLimit, stdoutLimit, environment, killSwitch);
    }

    public Command stderrLimit(int bytes) {
        return new Command(argv, timeout, stdin, stdout, bytes, stdoutLimit, environment, killSwitch);
    }

    /** Replaces the child's environment with exactly these variables; default: inherit ours. */
    public Command environment(java.util.Map<String, String> env) {
        return new Command(
                argv, timeout, stdin, stdout, stderrLimit, stdoutLimit, java.util.Map.copyOf(env), killSwitch);
    }

    /** Lets another thread end this command early ({@link KillSwitch#kill}). */
    public Command killSwitch(KillSwitch kill) {
        return new Command(argv, timeout, stdin, stdout, stderrLimit, stdoutLimit, environment, kill);
    }

    public List<String> argv() {
        return argv;
    }

    public Duration timeout() {
        return timeout;
    }

    InputStream stdin() {
        return stdin;
    }

    OutputStream stdout() {
        return stdout;
    }

    int stderrLimit() {
        return stderrLimit;
    }

    int stdoutLimit() {
        return stdoutLimit;
    }

    java.util.Map<String, String> environment() {
        return environment;
    }

    KillSwitch killSwitch() {
        return killSwitch;
    }

    @Override
    public String toString() {
        return String.join(" ", argv);
    }
}

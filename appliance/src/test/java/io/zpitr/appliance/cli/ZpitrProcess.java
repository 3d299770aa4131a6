// Test support: a zpitr command line run as its own process through bin/zpitr, to be killed at a random point.
package io.zpitr.appliance.cli;

import io.zpitr.process.ProcessTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * {@code bin/zpitr --config CONFIG ARGS...} as a process of its own (bin/zpitr execs the JVM: its
 * pid is the JVM's), its output in a file, so a test can SIGKILL it the way the OOM killer or a
 * power cut ends it: no shutdown hook, no finally block runs.
 */
public final class ZpitrProcess {
    public static final Path LAUNCHER =
            Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();

    private final Process process;
    private final Path output;

    private ZpitrProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    /** Starts it; stdout and stderr go to {@code output}. */
    public static ZpitrProcess start(Path config, Path output, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(LAUNCHER.toString(), "--config", config.toString()));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        return new ZpitrProcess(p, output);
    }

    /**
     * The random source of one test run: seeded from {@code -Dzpitr.kill.seed} when given (to
     * replay a failure), else at random; the seed is printed, so a failing run can be replayed.
     */
    public static Random seeded(String test) {
        long seed = Long.getLong("zpitr.kill.seed", new Random().nextLong());
        System.out.println(test + ": kill points drawn with -Dzpitr.kill.seed=" + seed);
        return new Random(seed);
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL, and waits until the kernel has reaped it. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("pid " + pid() + " survived SIGKILL for 30 s");
        }
    }

    /** SIGTERM (as systemctl stop sends), then its exit code, waiting at most {@code limit}; SIGKILL if it outlives that. */
    public int terminate(Duration limit) throws InterruptedException {
        process.destroy();
        try {
            return waitFor(limit);
        } finally {
            if (process.isAlive()) {
                kill();
            }
        }
    }

    /** Its exit code, waiting at most {@code limit}. */
    public int waitFor(Duration limit) throws InterruptedException {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError(
                    "zpitr (pid " + pid() + ") still running after " + limit + "; it printed:\n" + output());
        }
        return process.exitValue();
    }

    /** What it printed so far. */
    public String output() {
        try {
            return Files.readString(output);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Waits for {@code condition}, failing with {@code what} after {@code limit}. */
    public static void await(BooleanSupplier condition, Duration limit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + limit.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** The live processes, other than this JVM, whose command line contains {@code text}, as "pid argv". */
    public static List<String> mentioning(String text) {
        return ProcessTrees.mentioning(text).stream()
                .map(p -> p.pid() + " " + ProcessTrees.commandLine(p))
                .toList();
    }

    /**
     * Waits until no process mentions {@code text} (bounded by {@code limit}); those still running
     * then fail the wait, named, and are stopped so that they do not outlive the test.
     */
    public static void awaitNoneMentioning(String text, Duration limit, String why) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!ProcessTrees.mentioning(text).isEmpty()) {
            if (System.nanoTime() > deadline) {
                List<String> left = mentioning(text);
                ProcessTrees.mentioning(text).forEach(p -> ProcessTrees.stop(p, Duration.ofSeconds(5)));
                throw new AssertionError(why + ": still running " + limit.toSeconds() + " s later: " + left);
            }
            Thread.sleep(100);
        }
    }
}

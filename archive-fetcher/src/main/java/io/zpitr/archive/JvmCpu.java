// The CPU this JVM has used, and how much of it its JIT compiler threads took: for the summaries of long fetches.
package io.zpitr.archive;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * Read from {@code /proc/self/task/*}/stat: the JDK's compilation MXBean counts the compilers' elapsed
 * time, which on a loaded machine includes the time they waited for a core; their threads' own CPU
 * time is what they took from replay. Linux only; elsewhere (or when /proc cannot be read) empty.
 */
final class JvmCpu {
    /** HotSpot's compiler threads, as the kernel shortens their names to 15 characters. */
    private static final String C1 = "C1 CompilerThre";

    private static final String C2 = "C2 CompilerThre";
    private static final double TICKS_PER_SECOND = 100.0;

    private JvmCpu() {}

    /** Seconds of CPU (user and system) the JIT compiler threads have used so far. */
    static OptionalDouble compilerSeconds() {
        long ticks = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException e) {
                    continue; // the thread ended meanwhile
                }
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                if (open < 0 || close < open) {
                    continue;
                }
                String name = stat.substring(open + 1, close);
                if (name.startsWith(C1) || name.startsWith(C2)) {
                    String[] f = stat.substring(close + 2).split(" ");
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
                }
            }
        } catch (IOException | RuntimeException e) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(ticks / TICKS_PER_SECOND);
    }

    /** Seconds of CPU this process has used, if the platform says. */
    static OptionalDouble processSeconds() {
        // Not the JDK's OperatingSystemMXBean: loading the management classes takes ~15 ms at the
        // end of every restore.
        return ProcessHandle.current()
                .info()
                .totalCpuDuration()
                .map(d -> OptionalDouble.of(d.toNanos() / 1e9))
                .orElse(OptionalDouble.empty());
    }

    /** ", process CPU 6.27 s (JIT compilers 3.10 s)", or less where the platform does not say. */
    static String describe() {
        OptionalDouble process = processSeconds();
        if (process.isEmpty()) {
            return "";
        }
        OptionalDouble jit = compilerSeconds();
        return String.format(Locale.ROOT, ", process CPU %.2f s", process.getAsDouble())
                + (jit.isPresent() ? String.format(Locale.ROOT, " (JIT compilers %.2f s)", jit.getAsDouble()) : "");
    }
}

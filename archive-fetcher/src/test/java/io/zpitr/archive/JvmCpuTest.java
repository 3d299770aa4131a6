// JvmCpu reads this JVM's own CPU and its JIT compiler threads' share from /proc.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class JvmCpuTest {
    /** Work enough for the JIT to compile something: a loop the compilers take on. */
    private static long busy() {
        long x = 0;
        for (int i = 0; i < 50_000_000; i++) {
            x += (long) i * i % 7;
        }
        return x;
    }

    @Test
    void compilerThreadsHaveUsedCpuAndLessThanTheWholeProcess() {
        assertTrue(busy() > 0);
        OptionalDouble jit = JvmCpu.compilerSeconds();
        OptionalDouble process = JvmCpu.processSeconds();
        assertTrue(jit.isPresent(), "this is Linux: /proc/self/task is readable");
        assertTrue(process.isPresent());
        assertTrue(jit.getAsDouble() > 0, "a test JVM has compiled code by now: " + jit.getAsDouble());
        assertTrue(
                jit.getAsDouble() <= process.getAsDouble() + 0.02,
                "the compilers' CPU is part of the process's: " + jit.getAsDouble() + " > " + process.getAsDouble());
    }

    @Test
    void describesBothForASummaryLine() {
        String d = JvmCpu.describe();
        assertTrue(d.matches(", process CPU \\d+\\.\\d\\d s \\(JIT compilers \\d+\\.\\d\\d s\\)"), d);
    }
}

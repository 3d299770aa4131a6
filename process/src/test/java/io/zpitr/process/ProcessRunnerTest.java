package io.zpitr.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProcessRunnerTest {
    private final ProcessRunner runner = new ProcessRunner();

    @Test
    void argumentsReachTheProgramVerbatimWithoutAShell() {
        ProcessResult result = runner.run(Command.of("printf", "%s|", "a b", "$(id)", "; rm -rf /", "'q'"));
        assertEquals(0, result.exitCode());
        assertEquals("a b|$(id)|; rm -rf /|'q'|", result.stdout());
    }

    @Test
    void nonZeroExitIsAResultAndRequireSuccessNamesArgvAndStderr() {
        ProcessResult result = runner.run(Command.of("ls", "/definitely/not/here"));
        assertEquals(2, result.exitCode());
        ProcessFailedException e = assertThrows(ProcessFailedException.class, result::requireSuccess);
        assertTrue(e.getMessage().contains("ls /definitely/not/here"), e.getMessage());
        assertTrue(e.getMessage().contains("No such file"), e.getMessage());
    }

    @Test
    void aCommandPastItsLimitIsKilled() {
        long start = System.nanoTime();
        ProcessTimeoutException e = assertThrows(
                ProcessTimeoutException.class,
                () -> runner.run(Command.of("sleep", "30").timeout(Duration.ofMillis(300))));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10);
        assertTrue(e.getMessage().contains("sleep 30"), e.getMessage());
    }

    @Test
    void stderrIsBounded() {
        ProcessResult result = runner.run(
                Command.of("head", "-c", "100000", "/dev/zero").stderrLimit(10).stdoutTo(new ByteArrayOutputStream()));
        assertEquals(0, result.exitCode());
        ProcessResult noisy =
                runner.run(Command.of("sh", "-c", "head -c 5000 /dev/zero >&2").stderrLimit(100));
        assertEquals(100, noisy.stderr().length());
        assertTrue(noisy.stderrTruncated());
    }

    @Test
    void streamsStdinAndStdout() {
        byte[] data = "hello\nworld\n".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        runner.run(Command.of("cat").stdinFrom(new ByteArrayInputStream(data)).stdoutTo(out))
                .requireSuccess();
        assertEquals("hello\nworld\n", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aMissingProgramIsAClearError() {
        ProcessException e =
                assertThrows(ProcessException.class, () -> runner.run(Command.of("no-such-program-zpitr")));
        assertTrue(e.getMessage().contains("no-such-program-zpitr"), e.getMessage());
    }

    @Test
    void aKillSwitchEndsAStreamingCommandThatHasNoTimeLimit() throws Exception {
        KillSwitch kill = new KillSwitch();
        java.util.concurrent.CompletableFuture<ProcessResult> running =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> runner.run(
                        Command.of("sleep", "60").timeout(Duration.ZERO).killSwitch(kill)));
        // Whether the kill comes before or after the start, the command ends soon and says why.
        kill.kill("the receiver went away");
        java.util.concurrent.ExecutionException e = assertThrows(
                java.util.concurrent.ExecutionException.class,
                () -> running.get(20, java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof ProcessException, String.valueOf(e.getCause()));
        assertTrue(
                e.getCause().getMessage().contains("the receiver went away"),
                e.getCause().getMessage());
    }

    @Test
    void aKillSwitchNotPulledChangesNothing() {
        ProcessResult r =
                runner.run(Command.of("echo", "ok").timeout(Duration.ZERO).killSwitch(new KillSwitch()));
        assertEquals("ok\n", r.stdout());
        assertEquals(0, r.exitCode());
    }

    @Test
    void refusesNulBytes() {
        assertThrows(IllegalArgumentException.class, () -> Command.of("echo", "a\0b"));
    }
}

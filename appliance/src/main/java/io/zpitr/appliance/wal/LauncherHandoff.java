// wal-fetch under bin/zpitr: answer the launcher first, then stay on as the prefetcher.
package io.zpitr.appliance.wal;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The protocol between {@code bin/zpitr} and a wal-fetch JVM it starts with {@value #ENV}=1 (in a
 * session of its own, in {@code /}, standard input from {@code /dev/null}): the JVM's standard
 * output and error are one pipe, which the launcher relays to PostgreSQL's log line by line until
 * the line {@code zpitr-exit N}; the launcher then exits N at once, so PostgreSQL goes on replaying,
 * while the JVM — warm, its SSH session open — stays on as the spool's prefetcher, logging to the
 * spool's {@code prefetch.log}. PostgreSQL's own descriptors never reach the JVM (its log's reader
 * waits for every writer to close). This spares the second JVM and the SSH handshakes that a
 * separately started prefetcher costs before its first segment (measured: bench/).
 */
public final class LauncherHandoff {
    /** Set by the launcher when it reads the exit code from the pipe on standard output. */
    public static final String ENV = "ZPITR_HANDOFF";

    private static final String LINE = "zpitr-exit ";

    private static volatile boolean released;

    private LauncherHandoff() {}

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
     * Gives the launcher {@code code}; the caller then goes on in the background, its log lines
     * going to {@code log} (the pipe has no reader any more).
     */
    public static void release(int code, Path log) {
        System.err.flush();
        sendExitCode(code);
        System.setOut(new PrintStream(PrintStream.nullOutputStream()));
        try {
            System.setErr(new PrintStream(new FileOutputStream(log.toFile(), true), true, StandardCharsets.UTF_8));
        } catch (IOException e) {
            System.setErr(new PrintStream(PrintStream.nullOutputStream()));
        }
    }

    private static void sendExitCode(int code) {
        released = true;
        byte[] line = (LINE + code + "\n").getBytes(StandardCharsets.US_ASCII);
        System.out.write(line, 0, line.length);
        System.out.flush();
    }
}

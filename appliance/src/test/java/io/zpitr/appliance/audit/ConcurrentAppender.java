// A second process for the concurrency test: appends events from several threads once told to go.
package io.zpitr.appliance.audit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code java -cp … ConcurrentAppender LOG WRITER THREADS COUNT READY_FILE GO_FILE}. */
public final class ConcurrentAppender {
    private ConcurrentAppender() {}

    public static void main(String[] args) throws Exception {
        Path log = Path.of(args[0]);
        String writer = args[1];
        int threads = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        Files.createFile(Path.of(args[4]));
        Path go = Path.of(args[5]);
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (!Files.exists(go)) { // a barrier across processes, so the appends really overlap
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("no go file " + go + " after 60s");
            }
            Thread.sleep(1);
        }
        appendFromThreads(new AuditLog(log), writer, threads, count);
    }

    /** Appends {@code count} events from each of {@code threads} threads, each thread its own log object. */
    static void appendFromThreads(AuditLog shared, String writer, int threads, int count) throws InterruptedException {
        List<Thread> started = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            // Half the threads share one AuditLog, half have their own: both must serialize.
            AuditLog log = t % 2 == 0 ? shared : new AuditLog(shared.file());
            Thread th = new Thread(() -> {
                for (int i = 0; i < count; i++) {
                    log.append(
                            AuditEvent.SNAPSHOT,
                            List.of("snapshot", "--label", writer),
                            Outcome.OK,
                            Map.of("writer", writer, "thread", thread, "i", i));
                }
            });
            th.setUncaughtExceptionHandler((x, e) -> {
                synchronized (failures) {
                    failures.add(e);
                }
            });
            th.start();
            started.add(th);
        }
        for (Thread th : started) {
            th.join();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("an append failed", failures.get(0));
        }
    }
}

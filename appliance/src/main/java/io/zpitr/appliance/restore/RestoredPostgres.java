// Starts, watches, promotes and stops the PostgreSQL of one restore clone.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.postgres.OsUser;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The restored instance, run as the OS user on its own port and socket folder. Its progress is read
 * from its server log ({@link RecoveryProgress}), never by connecting while it recovers; SQL is used
 * only once it has said it is at the target or promoted.
 */
final class RestoredPostgres {
    /** How often the log is read while waiting: the cost of a read of what was appended. */
    private static final long POLL_MILLIS = 20;
    /**
     * Replay that says nothing for this long is stuck (a restore_command that does not return, a
     * server that hangs): every segment restored, every checkpoint and every state change is a line.
     */
    static final Duration STALL_LIMIT = Duration.ofMinutes(10);
    /** How long a promotion asked for early may take to show, from the pause, before it is asked for again. */
    private static final Duration PROMOTION_GRACE = Duration.ofSeconds(3);

    private final ProcessRunner runner;
    private final String osUser;
    private final Path binDir;
    private final Path pgdata;
    private final Path runDir;
    private final int port;
    private final Path logFile;
    private final RecoveryProgress progress = new RecoveryProgress();
    private ServerLogTail tail;
    /** The promotion was asked for while replay ran ({@link #requestPromotion}). */
    private boolean promotionRequested;

    RestoredPostgres(
            ProcessRunner runner, String osUser, Path binDir, Path pgdata, Path runDir, int port, Path logFile) {
        this.runner = runner;
        this.osUser = osUser;
        this.binDir = binDir;
        this.pgdata = pgdata;
        this.runDir = runDir;
        this.port = port;
        this.logFile = logFile;
    }

    /**
     * Starts the server in the background (pg_ctl without waiting for recovery, which may take long)
     * and returns once its postmaster runs, or throws with its log if it could not start.
     */
    void start() throws IOException, InterruptedException {
        tail = new ServerLogTail(logFile);
        runner.run(Command.of(asUser(
                                osUser,
                                binDir.resolve("pg_ctl").toString(),
                                "start",
                                "-D",
                                pgdata.toString(),
                                "-l",
                                logFile.toString(),
                                "-W"))
                        .timeout(Duration.ofMinutes(2)))
                .requireSuccess();
        // pg_ctl -W returns once it has forked; the postmaster writes its pid file a moment later.
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (postmaster().isEmpty()) {
            for (String line : tail.newLines()) {
                progress.accept(line);
            }
            if (progress.lastError().isPresent() || System.nanoTime() > deadline) {
                Thread.sleep(200); // the rest of what it says before it exits
                tail.newLines().forEach(progress::accept);
                throw ZpitrError.POSTGRES_FAILED.exception(
                        "the restored PostgreSQL did not start; its log ends with:\n" + tail.recentLines());
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** The postmaster, while it runs (a crash leaves the file behind). */
    private Optional<ProcessHandle> postmaster() {
        return postmasterOf(pgdata);
    }

    /**
     * The running postmaster of {@code pgdata}, read from its {@code postmaster.pid} and believed
     * only when it is this data directory's: the file's second line names {@code pgdata} and the
     * process, alive and not a zombie, works in it (a postmaster's working directory is its data
     * directory). A clone starts with the {@code postmaster.pid} of the live standby the snapshot
     * was taken of, naming the standby's postmaster; a restore killed before it removed that file
     * leaves it there, and a signal sent by it would stop the live standby.
     */
    static Optional<ProcessHandle> postmasterOf(Path pgdata) {
        List<String> lines;
        try {
            lines = Files.readAllLines(pgdata.resolve("postmaster.pid"));
        } catch (IOException | java.io.UncheckedIOException e) {
            return Optional.empty();
        }
        if (lines.size() < 2 || !sameFile(lines.get(1).strip(), pgdata)) {
            return Optional.empty();
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).strip());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (pid <= 1 || !ProcessTrees.alive(pid)) {
            return Optional.empty();
        }
        return sameFile("/proc/" + pid + "/cwd", pgdata) ? ProcessHandle.of(pid) : Optional.empty();
    }

    /** False also when either cannot be looked at (gone meanwhile, not ours to see, not a path). */
    private static boolean sameFile(String a, Path b) {
        try {
            return Files.isSameFile(Path.of(a), b);
        } catch (IOException | SecurityException | java.nio.file.InvalidPathException e) {
            return false;
        }
    }

    boolean alive() {
        return postmaster().isPresent();
    }

    /**
     * Waits until recovery reaches {@code until} (PAUSED_AT_TARGET or PROMOTED) or cannot: the
     * server stopped, PostgreSQL said WAL ended before the target, or it promoted where a pause was
     * expected (11 and 12 do at the end of WAL). Prints progress: at most one line a second on a
     * terminal, one every ten seconds otherwise.
     *
     * @param promoteEarly ask for the promotion as soon as recovery starts (14 and later, a target
     *     to reach and promote at): see {@link #requestPromotion}
     * @throws NotRestorableException when WAL ended before the target
     * @throws io.zpitr.appliance.error.ZpitrException {@code postgres-failed} when the server stopped or stalled
     */
    RecoveryProgress awaitRecovery(
            RecoveryProgress.Phase until, RestorePlan plan, PrintWriter out, boolean terminal, boolean promoteEarly)
            throws IOException, InterruptedException {
        long interval = terminal ? 1_000_000_000L : 10_000_000_000L;
        long lastReport = System.nanoTime();
        long lastLine = System.nanoTime();
        int reported = -1;
        while (true) {
            boolean aliveBefore = alive();
            List<String> lines = tail.newLines();
            for (String line : lines) {
                progress.accept(line);
            }
            if (!lines.isEmpty()) {
                lastLine = System.nanoTime();
            }
            if (promoteEarly && !promotionRequested && progress.recoveryStarted()) {
                requestPromotion();
            }
            RecoveryProgress.Phase phase = progress.phase();
            if (phase == until
                    || (phase == RecoveryProgress.Phase.PROMOTED
                            && until == RecoveryProgress.Phase.PAUSED_AT_TARGET
                            && promotionRequested
                            && progress.reachedTarget())) {
                return progress;
            }
            if (phase == RecoveryProgress.Phase.ENDED_BEFORE_TARGET
                    || (phase == RecoveryProgress.Phase.PROMOTED && until == RecoveryProgress.Phase.PAUSED_AT_TARGET)) {
                throw endedBefore(plan);
            }
            if (!aliveBefore) {
                // Read what it wrote before it went, then judge.
                for (String line : tail.newLines()) {
                    progress.accept(line);
                }
                if (progress.phase() == RecoveryProgress.Phase.ENDED_BEFORE_TARGET) {
                    throw endedBefore(plan);
                }
                throw ZpitrError.POSTGRES_FAILED.exception(
                        "the restored PostgreSQL stopped during recovery; its log ends with:\n" + tail.recentLines());
            }
            if (System.nanoTime() - lastLine > STALL_LIMIT.toNanos()) {
                throw ZpitrError.POSTGRES_FAILED.exception(
                        "the restored PostgreSQL has logged nothing for " + STALL_LIMIT.toMinutes()
                                + " minutes while recovering (last segment restored: "
                                + progress.lastRestored().orElse("none")
                                + "); its log ends with:\n" + tail.recentLines()
                                + "\nHINT: zpitr check shows whether the archive hosts answer");
            }
            if (progress.restoredSegments() != reported && System.nanoTime() - lastReport >= interval) {
                reported = progress.restoredSegments();
                lastReport = System.nanoTime();
                out.printf(
                        "replaying: %d segment(s) restored, at %s (archive holds through %s)%n",
                        reported, progress.lastRestored().orElse("-"), plan.lastAvailable());
                out.flush();
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    private static NotRestorableException endedBefore(RestorePlan plan) {
        return new NotRestorableException("replay ended before " + plan.target().describe()
                + ": the archive holds no WAL that far (it holds through " + plan.lastAvailable() + ")"
                + "\nHINT: pick an earlier target (zpitr list shows the window)");
    }

    /**
     * Ends the pause at the target with a promotion. From 14 on (documented there), a promotion
     * ends the pause and takes the fast way: an end-of-recovery record, the checkpoint after it in
     * the background. Before 14, resuming at a target paused with recovery_target_action = pause
     * ends recovery (with an immediate checkpoint). Returns once the log says it accepts
     * connections. From 14 on the promotion is asked for with {@code pg_ctl promote}, which
     * connects to nothing.
     */
    void promote(int major) throws IOException, InterruptedException {
        if (promotionRequested) {
            // Asked for before the pause: the pause loop acts on it before it first sleeps. Should
            // the request have been lost, it is asked for again the usual way.
            long deadline = System.nanoTime() + PROMOTION_GRACE.toNanos();
            while (progress.phase() != RecoveryProgress.Phase.PROMOTED && System.nanoTime() < deadline) {
                tail.newLines().forEach(progress::accept);
                Thread.sleep(POLL_MILLIS);
            }
            if (progress.phase() == RecoveryProgress.Phase.PROMOTED) {
                return;
            }
            promotionRequested = false;
        }
        if (major >= 14) {
            ProcessResult r = runner.run(Command.of(asUser(
                            osUser, binDir.resolve("pg_ctl").toString(), "promote", "-D", pgdata.toString(), "-W"))
                    .timeout(Duration.ofMinutes(1)));
            // The startup process paused at a target looks for a promotion once a second (its
            // pause loop sleeps on a condition variable that only a resume wakes, and a resume
            // would end recovery the slow way, an immediate checkpoint first): up to a second here.
            // pg_ctl refuses a server that promoted meanwhile (the early request after all): not a failure.
            tail.newLines().forEach(progress::accept);
            if (!r.succeeded() && progress.phase() != RecoveryProgress.Phase.PROMOTED) {
                throw ZpitrError.POSTGRES_FAILED.exception("pg_ctl promote failed: "
                        + r.stderr().strip() + "; the restored PostgreSQL's log ends with:\n" + tail.recentLines());
            }
        } else {
            trySql("select pg_wal_replay_resume()");
        }
        awaitPromoted();
    }

    /**
     * Asks for the promotion while replay still runs, so that it ends the pause at the target at
     * once. From 14 on, PostgreSQL's pause loop checks for a promotion before it first sleeps, and
     * then only once a second; in archive recovery (recovery.signal, not standby.signal) nothing
     * else acts on one (a standby's "promote when WAL runs out" is for standby mode only, and
     * recovery_min_apply_delay is 0 in a restore). A promotion asked for at the pause waits for
     * the loop's next look, up to a second. This is what {@code pg_ctl promote} does, the signal
     * file and SIGUSR1 to the postmaster, without its check that pg_control already says "in
     * archive recovery", which is written a moment after the line this follows.
     */
    private void requestPromotion() throws IOException {
        promotionRequested = true;
        Optional<ProcessHandle> postmaster = postmaster();
        if (postmaster.isEmpty()) {
            return; // it stopped: the wait says why
        }
        Path signal = pgdata.resolve("promote");
        Files.write(signal, new byte[0]);
        OsUser.giveTo(osUser, signal);
        // A postmaster gone meanwhile: the wait says why; one that missed the signal is asked again at the pause.
        runner.run(Command.of("kill", "-USR1", Long.toString(postmaster.get().pid()))
                .timeout(Duration.ofSeconds(10)));
    }

    /**
     * Waits for the log to say the server accepts read-write connections: PostgreSQL says so only
     * once recovery is over (the instance of a restore always starts in recovery).
     */
    void awaitPromoted() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (progress.phase() != RecoveryProgress.Phase.PROMOTED) {
            for (String line : tail.newLines()) {
                progress.accept(line);
            }
            if (progress.phase() == RecoveryProgress.Phase.PROMOTED) {
                break;
            }
            if (!alive()) {
                throw ZpitrError.POSTGRES_FAILED.exception(
                        "the restored PostgreSQL stopped while promoting; its log ends with:\n" + tail.recentLines());
            }
            if (System.nanoTime() > deadline) {
                throw ZpitrError.POSTGRES_FAILED.exception(
                        "the restored PostgreSQL did not finish promoting in 10 minutes;" + " its log ends with:\n"
                                + tail.recentLines());
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    Optional<String> trySql(String sql) {
        ProcessResult r = runner.run(Command.of(asUser(
                        osUser,
                        binDir.resolve("psql").toString(),
                        "-X",
                        "-A",
                        "-t",
                        "-h",
                        runDir.toString(),
                        "-p",
                        Integer.toString(port),
                        "-d",
                        "postgres",
                        "-c",
                        sql))
                .timeout(Duration.ofSeconds(90)));
        return r.succeeded() ? Optional.of(r.stdout().strip()) : Optional.empty();
    }

    String sql(String sql) {
        return trySql(sql)
                .orElseThrow(
                        () -> ZpitrError.POSTGRES_FAILED.exception("the restored PostgreSQL did not answer: " + sql));
    }

    void stop(String mode) {
        runner.run(Command.of(asUser(
                                osUser,
                                binDir.resolve("pg_ctl").toString(),
                                "stop",
                                "-D",
                                pgdata.toString(),
                                "-m",
                                mode,
                                "-w",
                                "-t",
                                "120"))
                        .timeout(Duration.ofMinutes(3)))
                .requireSuccess();
    }

    /** The last lines of its log, for a message. */
    String recentLog() {
        return tail == null ? "" : tail.recentLines();
    }

    /** {@code argv} run as {@code osUser}: through runuser when we are root and it is someone else. */
    static List<String> asUser(String osUser, String... argv) {
        return OsUser.command(osUser, List.of(argv));
    }
}

// `zpitr daemon`'s engine: Quartz runs the snapshot and prune schedules, one job at a time, until stopped.
package io.zpitr.appliance.daemon;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.audit.Outcome;
import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.daemon.ScheduleState.JobRun;
import io.zpitr.appliance.error.ZpitrException;
import io.zpitr.appliance.schedule.Schedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TimeZone;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.quartz.CronScheduleBuilder;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.impl.StdSchedulerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler daemon for one configuration.
 *
 * <p>{@link #start()} validates the schedules, takes the daemon lock, reads the schedule state,
 * makes up missed runs once ({@link CatchUp}), starts Quartz (in-memory job store, two threads, no
 * update check, no quartz.properties) with one cron trigger per configured job in the configured
 * zone, and tells systemd it is ready. Each run of a job is recorded in the state file (running,
 * then ok or failed), audited like the CLI command it stands for, and on failure also as
 * {@code job_failure}, logged, and retried by the {@link RetryPolicy}. Only one job runs at a time:
 * the snapshot and prune jobs share one lock, and the snapshot service's own lock keeps a manual
 * {@code zpitr snapshot} apart.
 *
 * <p>{@link #stop(String)} tells systemd it is stopping, waits for a running job to finish, shuts
 * Quartz down and releases the lock. The configuration is read once: a change needs a restart.
 */
public final class Daemon {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    private static final String CATCH_UP = "catch-up";

    /**
     * How the daemon runs beyond its configuration.
     *
     * @param retry    the retry policy for failed jobs
     * @param notifier systemd's notification socket (inactive when not run by systemd)
     * @param watchdog how often to ping systemd's watchdog; empty for never
     */
    public record Options(RetryPolicy retry, SystemdNotifier notifier, Optional<Duration> watchdog) {
        /** For this process as started: {@code NOTIFY_SOCKET}, {@code WATCHDOG_USEC} from {@code env}; the default retries. */
        public static Options forThisProcess(Map<String, String> env) {
            return new Options(
                    RetryPolicy.DEFAULT,
                    SystemdNotifier.forThisProcess(env.get("NOTIFY_SOCKET")),
                    Watchdog.interval(env, ProcessHandle.current().pid()));
        }
    }

    private final Appliance appliance;
    private final Options options;
    private final Clock clock;
    private final ZoneId zone;
    private final Map<JobKind, Schedule> schedules;
    private final JobActions actions;
    private final ReentrantLock oneJobAtATime = new ReentrantLock(true);
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile String stopReason;
    private volatile boolean stopping;

    private DaemonLock lock;
    private ScheduleState state;
    private Scheduler scheduler;
    private Watchdog watchdog;
    /** Keeps the standby's WAL prefetcher running while it reads the archive (StandbyPrefetch). */
    private java.util.concurrent.ScheduledExecutorService prefetchKeeper;
    /** archive.mirror_dir: the WAL mirror's passes, on a thread of their own (a pass may take a while). */
    private java.util.concurrent.ScheduledExecutorService mirrorThread;

    private MirrorKeeper mirrorKeeper;
    /** How often the daemon looks for restores whose expiry has passed. */
    static final Duration EXPIRY_SWEEP = Duration.ofSeconds(60);
    /** How often the daemon looks whether the standby's prefetcher should be running. */
    static final Duration PREFETCH_CHECK = Duration.ofSeconds(15);

    /**
     * Checks the configuration the daemon needs: at least one schedule, each valid, a retention
     * policy when prune is scheduled, datasets to snapshot.
     *
     * @throws ConfigException naming what is wrong
     */
    public Daemon(Appliance appliance, Options options) {
        this.appliance = appliance;
        this.options = options;
        this.clock = appliance.clock();
        this.zone = appliance.settings().timezone();
        this.schedules = schedules(appliance);
        this.actions = new JobActions(appliance);
    }

    private static Map<JobKind, Schedule> schedules(Appliance appliance) {
        Settings.Schedules s = appliance.settings().schedule();
        Map<JobKind, Schedule> out = new LinkedHashMap<>();
        ZoneId zone = appliance.settings().timezone();
        s.snapshot().ifPresent(text -> out.put(JobKind.SNAPSHOT, parse("schedule.snapshot", text, zone)));
        s.prune().ifPresent(text -> out.put(JobKind.PRUNE, parse("schedule.prune", text, zone)));
        s.drill().ifPresent(text -> out.put(JobKind.DRILL, parse("schedule.drill", text, zone)));
        s.replicate().ifPresent(text -> out.put(JobKind.REPLICATE, parse("schedule.replicate", text, zone)));
        if (out.containsKey(JobKind.REPLICATE)) {
            // A replicate schedule without targets is refused now rather than at its first run.
            appliance.settings().replication().select(null);
        }
        if (out.isEmpty()) {
            throw new ConfigException("config " + appliance.settings().file()
                    + " schedules nothing: the daemon would sit idle"
                    + "\nHINT: set schedule.snapshot (and schedule.prune), e.g. snapshot: \"1 4 * * *\"");
        }
        if (out.containsKey(JobKind.SNAPSHOT) && appliance.settings().datasets().isEmpty()) {
            throw new ConfigException(
                    "config " + appliance.settings().file()
                            + ": schedule.snapshot is set but zfs.datasets is empty\nHINT: list the standby's datasets, PGDATA's first");
        }
        if (out.containsKey(JobKind.PRUNE)) {
            appliance.retentionPolicy(); // refuses a prune schedule without a retention section, now rather than at
            // 04:30
        }
        return out;
    }

    private static Schedule parse(String key, String text, ZoneId zone) {
        try {
            return Schedule.parse(text, zone);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key + ": " + e.getMessage(), e);
        }
    }

    /** The jobs scheduled, in run order, with their schedules. */
    public Map<JobKind, Schedule> schedules() {
        return schedules;
    }

    /**
     * Starts scheduling: lock, state, catch-up, Quartz, READY=1, watchdog. Returns at once; jobs
     * run on Quartz's threads.
     *
     * @throws io.zpitr.appliance.error.ZpitrException {@code locked} when another daemon runs on the same state_dir
     */
    public synchronized void start() throws IOException, SchedulerException {
        if (scheduler != null) {
            throw new IllegalStateException("the daemon is started already");
        }
        Path stateDir = appliance.settings().stateDir();
        lock = DaemonLock.acquire(stateDir);
        try {
            boolean stateLost = false;
            try {
                state = ScheduleState.read(stateDir);
            } catch (ZpitrException e) {
                Path aside = stateDir.resolve(ScheduleState.FILE_NAME + ".damaged-" + clock.millis());
                Files.move(ScheduleState.fileIn(stateDir), aside, StandardCopyOption.REPLACE_EXISTING);
                LOG.warn(
                        "{}; moved it to {} and starting afresh",
                        e.getMessage().lines().findFirst().orElse(""),
                        aside);
                state = ScheduleState.empty(stateDir);
                stateLost = true;
            }
            Instant now = clock.instant();
            CatchUp.Plan plan = CatchUp.decide(schedules, state::job, stateLost, now);
            for (JobKind k : plan.baseline()) {
                state.put(k, JobRun.baseline(now));
                LOG.info("{} job: first start, no earlier runs to make up (baseline {})", k, now);
            }
            scheduler = newScheduler();
            scheduler.setJobFactory((bundle, s) -> new QuartzJob(this));
            for (Map.Entry<JobKind, Schedule> e : schedules.entrySet()) {
                JobKind kind = e.getKey();
                JobDetail job = JobBuilder.newJob(QuartzJob.class)
                        .withIdentity(jobKey(kind))
                        .storeDurably()
                        .usingJobData(QuartzJob.JOBS, kind.wireName())
                        .build();
                Trigger cron = TriggerBuilder.newTrigger()
                        .withIdentity(kind.wireName() + "-schedule")
                        .forJob(job)
                        .withSchedule(CronScheduleBuilder.cronSchedule(
                                        e.getValue().quartz())
                                .inTimeZone(TimeZone.getTimeZone(zone))
                                // A run delayed past the misfire threshold (a long job before it) runs once, late.
                                .withMisfireHandlingInstructionFireAndProceed())
                        .usingJobData(QuartzJob.TRIGGER, "schedule")
                        .build();
                scheduler.scheduleJob(job, cron);
            }
            if (!plan.runNow().isEmpty()) {
                plan.runNow().forEach((k, why) -> LOG.info("{} job: running once now: {}", k, why));
                JobDetail catchUp = JobBuilder.newJob(QuartzJob.class)
                        .withIdentity(CATCH_UP)
                        .usingJobData(
                                QuartzJob.JOBS,
                                String.join(
                                        ",",
                                        plan.runNow().keySet().stream()
                                                .map(JobKind::wireName)
                                                .toList()))
                        .build();
                scheduler.scheduleJob(
                        catchUp,
                        TriggerBuilder.newTrigger()
                                .withIdentity(CATCH_UP)
                                .startNow()
                                .usingJobData(QuartzJob.TRIGGER, CATCH_UP)
                                .build());
            }
            scheduler.start();
        } catch (IOException | SchedulerException | RuntimeException e) {
            shutDownQuietly();
            throw e;
        }
        String status = nextRuns();
        options.notifier().ready(status);
        options.watchdog()
                .ifPresent(every -> watchdog = Watchdog.start(every, this::alive, options.notifier()::watchdog));
        startPrefetchKeeper();
        LOG.info(
                "zpitr daemon started (pid {}, config {}): {}",
                ProcessHandle.current().pid(),
                appliance.settings().file(),
                status);
        warnWhenDrillsCannotKeepUp();
    }

    /** drill.prove_within with a schedule.drill that runs fewer drills in the period than there are sets: said once, at start. */
    private void warnWhenDrillsCannotKeepUp() {
        if (appliance.settings().drillProveWithin().isEmpty()) {
            return;
        }
        try {
            io.zpitr.appliance.drill.DrillRotation.Coverage c = io.zpitr.appliance.drill.DrillRotation.coverage(
                    appliance.catalog().list(), appliance.settings(), clock.instant());
            if (!c.keepsUp()) {
                LOG.warn(
                        "drills: {}\nHINT: schedule drills more often, lengthen drill.prove_within, or retain fewer sets",
                        c.summary());
            }
        } catch (RuntimeException e) {
            LOG.warn("drills: cannot tell whether schedule.drill keeps up with drill.prove_within: {}", e.getMessage());
        }
    }

    private Scheduler newScheduler() throws SchedulerException {
        Properties p = new Properties();
        p.setProperty("org.quartz.scheduler.instanceName", "zpitr-" + INSTANCES.incrementAndGet());
        p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
        p.setProperty("org.quartz.scheduler.jmx.export", "false");
        p.setProperty("org.quartz.scheduler.makeSchedulerThreadDaemon", "true");
        p.setProperty("org.quartz.threadPool.class", "org.quartz.simpl.SimpleThreadPool");
        p.setProperty("org.quartz.threadPool.threadCount", "2");
        p.setProperty("org.quartz.threadPool.threadNamePrefix", "zpitr-job");
        p.setProperty("org.quartz.threadPool.makeThreadsDaemons", "true");
        p.setProperty("org.quartz.jobStore.class", "org.quartz.simpl.RAMJobStore");
        p.setProperty("org.quartz.jobStore.misfireThreshold", "60000");
        return new StdSchedulerFactory(p).getScheduler();
    }

    private static JobKey jobKey(JobKind kind) {
        return JobKey.jobKey(kind.wireName());
    }

    private boolean alive() {
        try {
            return !stopping && scheduler.isStarted() && !scheduler.isShutdown();
        } catch (SchedulerException e) {
            return false;
        }
    }

    /**
     * Runs one job now, on the calling (Quartz) thread, after any running job; records, audits,
     * logs and schedules a retry on failure. Never throws for a job's failure.
     */
    void run(JobKind kind, String trigger, int attempt) {
        oneJobAtATime.lock();
        try {
            if (stopping) {
                // Not started: the run stays missed, and the next start makes it up.
                LOG.info("{} job not started: the daemon is stopping", kind);
                return;
            }
            String triggerText = attempt == 0
                    ? trigger
                    : "retry " + attempt + " of " + options.retry().retries();
            Instant start = clock.instant();
            record(
                    kind,
                    new JobRun(start, ScheduleState.Outcome.RUNNING, null, triggerText, attempt, null, null, null));
            LOG.info("{} job started ({})", kind, triggerText);
            try {
                String result = switch (kind) {
                    case SNAPSHOT -> actions.snapshot(triggerText);
                    case PRUNE -> actions.prune(triggerText);
                    case DRILL -> actions.drill(triggerText);
                    case REPLICATE -> actions.replicate(triggerText);
                };
                cancelRetries(kind);
                Instant end = clock.instant();
                record(
                        kind,
                        new JobRun(start, ScheduleState.Outcome.OK, end, triggerText, attempt, result, null, null));
                LOG.info(
                        "{} job ok in {} ms ({}): {}",
                        kind,
                        Duration.between(start, end).toMillis(),
                        triggerText,
                        result);
            } catch (Exception e) {
                failed(kind, start, triggerText, attempt, e);
            }
            options.notifier().status(statusLine());
            try {
                new MetricsTextFile(appliance).write();
            } catch (IOException | RuntimeException m) {
                LOG.warn("metrics not written to {}: {}", appliance.settings().metricsFile(), m.getMessage());
            }
        } finally {
            oneJobAtATime.unlock();
        }
    }

    private void failed(JobKind kind, Instant start, String triggerText, int attempt, Exception e) {
        String error = JobActions.firstLine(e);
        cancelRetries(kind);
        Instant retryAt = null;
        Optional<Duration> delay = options.retry().after(attempt);
        if (delay.isPresent()) {
            Instant at = clock.instant().plus(delay.get());
            try {
                scheduleRetry(kind, attempt + 1, at);
                retryAt = at;
            } catch (SchedulerException | RuntimeException s) {
                LOG.warn(
                        "{} job: retry {} not scheduled ({}); the next start or scheduled run tries again",
                        kind,
                        attempt + 1,
                        s.getMessage());
            }
        }
        int left = Math.max(0, options.retry().retries() - attempt);
        LOG.error(
                "{} job failed ({}): {}{}",
                kind,
                triggerText,
                error,
                retryAt != null
                        ? "; retry " + (attempt + 1) + " of " + options.retry().retries() + " at " + retryAt
                        : "; no retry left: it runs again at its next scheduled time (" + next(kind) + ")");
        LOG.debug("{} job failure", kind, e);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("job", kind.wireName());
        d.put("trigger", triggerText);
        d.put("attempt", attempt);
        d.put("error", error);
        d.put("retry_at", retryAt == null ? null : retryAt.toString());
        d.put("retries_left", retryAt == null ? 0 : left);
        try {
            appliance.audit().append(AuditEvent.JOB_FAILURE, kind.auditCommand(), Outcome.FAILED, d);
        } catch (RuntimeException a) {
            LOG.error("{} job failure could not be audited: {}", kind, a.getMessage());
        }
        record(
                kind,
                new JobRun(
                        start,
                        ScheduleState.Outcome.FAILED,
                        clock.instant(),
                        triggerText,
                        attempt,
                        null,
                        error,
                        retryAt));
    }

    private void scheduleRetry(JobKind kind, int attempt, Instant at) throws SchedulerException {
        Trigger retry = TriggerBuilder.newTrigger()
                .withIdentity(kind.wireName() + "-retry-" + attempt)
                .forJob(jobKey(kind))
                .startAt(Date.from(at))
                .withSchedule(SimpleScheduleBuilder.simpleSchedule().withMisfireHandlingInstructionFireNow())
                .usingJobData(QuartzJob.TRIGGER, "retry")
                .usingJobData(QuartzJob.ATTEMPT, attempt)
                .build();
        scheduler.scheduleJob(retry);
    }

    /** Drops a job's pending retries: a success or a newer run replaces them. */
    private void cancelRetries(JobKind kind) {
        try {
            for (Trigger t : scheduler.getTriggersOfJob(jobKey(kind))) {
                if (t.getKey().getName().startsWith(kind.wireName() + "-retry-")) {
                    scheduler.unscheduleJob(t.getKey());
                }
            }
        } catch (SchedulerException e) {
            LOG.warn("{} job: cannot cancel pending retries: {}", kind, e.getMessage());
        }
    }

    /** Writes the state file; a failure to write is logged, never turns a job's outcome around. */
    private void record(JobKind kind, JobRun run) {
        try {
            state.put(kind, run);
        } catch (RuntimeException e) {
            LOG.error(
                    "{}\nHINT: check state_dir's owner, mode and free space; until then a restart cannot tell"
                            + " which runs it missed",
                    e.getMessage());
        }
    }

    /** The systemd STATUS after a job: each job's last outcome and next run. */
    public String statusLine() {
        List<String> parts = new ArrayList<>();
        for (JobKind k : schedules.keySet()) {
            Optional<JobRun> last = state.job(k);
            if (last.isPresent() && last.get().outcome() != ScheduleState.Outcome.NONE) {
                JobRun r = last.get();
                parts.add("last " + k + " " + r.outcome().wireName() + " at " + local(r.lastRun())
                        + (r.nextRetry() != null ? " (retry at " + local(r.nextRetry()) + ")" : ""));
            }
        }
        parts.add(nextRuns());
        return String.join("; ", parts);
    }

    /** "next snapshot <time>, next prune <time>", in the configured zone. */
    public String nextRuns() {
        List<String> parts = new ArrayList<>();
        for (JobKind k : JobKind.values()) {
            parts.add(schedules.containsKey(k) ? "next " + k + " " + next(k) : k + " not scheduled");
        }
        return String.join(", ", parts);
    }

    private String next(JobKind kind) {
        return schedules.get(kind).nextAfter(clock.instant()).map(this::local).orElse("never");
    }

    private String local(Instant i) {
        return DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ssXXX")
                .withZone(zone)
                .format(i);
    }

    /** Asks the daemon to stop; {@link #awaitStopRequest()} returns. Safe from a signal handler. */
    public void requestStop(String reason) {
        if (stopReason == null) {
            stopReason = reason;
        }
        stopRequested.countDown();
    }

    /** Waits until someone calls {@link #requestStop}; returns the reason given. */
    public String awaitStopRequest() throws InterruptedException {
        stopRequested.await();
        return stopReason;
    }

    /**
     * Stops: STOPPING=1 to systemd, no new job starts, a running job is waited for, Quartz shut
     * down, the lock released. Idempotent; a second caller waits for the first to finish.
     */
    public void stop(String reason) {
        synchronized (this) {
            if (stopping) {
                awaitStoppedQuietly();
                return;
            }
            stopping = true;
        }
        requestStop(reason);
        boolean running = oneJobAtATime.isLocked();
        LOG.info("zpitr daemon stopping ({}){}", reason, running ? ": waiting for the running job to finish" : "");
        options.notifier().stopping("stopping (" + reason + ")" + (running ? ", waiting for the running job" : ""));
        shutDownQuietly();
        stopped.countDown();
        LOG.info("zpitr daemon stopped");
    }

    private void awaitStoppedQuietly() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits up to {@code limit} for {@link #stop} to finish. */
    public boolean awaitStopped(Duration limit) throws InterruptedException {
        return stopped.await(limit.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** docs/design.md: "the daemon and restore fill a spool": see {@link io.zpitr.appliance.wal.StandbyPrefetch}. */
    private synchronized void startPrefetchKeeper() {
        prefetchKeeper = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "prefetch-keeper");
            t.setDaemon(true);
            return t;
        });
        prefetchKeeper.scheduleWithFixedDelay(
                () -> {
                    try {
                        io.zpitr.appliance.wal.StandbyPrefetch.keep(appliance.settings(), appliance.runner(), clock)
                                .ifPresent(LOG::info);
                    } catch (IOException | RuntimeException e) {
                        LOG.warn("WAL prefetch check failed: {}", e.toString());
                    }
                },
                0,
                PREFETCH_CHECK.toMillis(),
                TimeUnit.MILLISECONDS);
        io.zpitr.appliance.wal.WalMirror.of(appliance.settings()).ifPresent(m -> {
            mirrorKeeper = new MirrorKeeper(appliance, m);
            mirrorThread = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "wal-mirror");
                t.setDaemon(true);
                return t;
            });
            mirrorThread.scheduleWithFixedDelay(
                    mirrorKeeper::runOnce, 0, MirrorKeeper.every().toMillis(), TimeUnit.MILLISECONDS);
        });
        // Restores whose --ttl (or restore.default_ttl) has passed: dropped on the same quiet thread.
        prefetchKeeper.scheduleWithFixedDelay(
                () -> {
                    try {
                        new ExpiredRestores(appliance).sweep().forEach(LOG::info);
                    } catch (RuntimeException e) {
                        LOG.warn("expired restores not swept: {}", e.toString());
                    }
                },
                0,
                EXPIRY_SWEEP.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private synchronized void shutDownQuietly() {
        if (prefetchKeeper != null) {
            prefetchKeeper.shutdownNow();
            prefetchKeeper = null;
        }
        if (mirrorThread != null) {
            mirrorThread.shutdownNow();
            mirrorThread = null;
        }
        if (mirrorKeeper != null) {
            mirrorKeeper.close();
            mirrorKeeper = null;
        }
        if (watchdog != null) {
            watchdog.close();
            watchdog = null;
        }
        if (scheduler != null) {
            try {
                scheduler.shutdown(true); // waits for a running job
            } catch (SchedulerException e) {
                LOG.warn("Quartz did not shut down cleanly: {}", e.getMessage());
            }
        }
        if (lock != null) {
            try {
                lock.close();
            } catch (IOException e) {
                LOG.warn("cannot release {}: {}", lock, e.getMessage());
            }
            lock = null;
        }
    }
}

// The one Quartz job class: hands each firing to the daemon, which runs one job at a time.
package io.zpitr.appliance.daemon;

import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobDataMap;
import org.quartz.JobExecutionContext;

/**
 * A firing of a trigger. Its data names the jobs to run ({@value #JOBS}: {@code snapshot},
 * {@code prune}, or {@code snapshot,prune} for a catch-up, in that order), the trigger
 * ({@value #TRIGGER}) and, for a retry, the attempt ({@value #ATTEMPT}). Concurrent firings of the
 * same job detail wait ({@link DisallowConcurrentExecution}); different jobs wait on the daemon's
 * lock.
 */
@DisallowConcurrentExecution
final class QuartzJob implements Job {
    static final String JOBS = "jobs";
    static final String TRIGGER = "trigger";
    static final String ATTEMPT = "attempt";

    private final Daemon daemon;

    QuartzJob(Daemon daemon) {
        this.daemon = daemon;
    }

    @Override
    public void execute(JobExecutionContext context) {
        JobDataMap data = context.getMergedJobDataMap();
        String trigger = data.containsKey(TRIGGER) ? data.getString(TRIGGER) : "schedule";
        int attempt = data.containsKey(ATTEMPT) ? data.getInt(ATTEMPT) : 0;
        for (String name : data.getString(JOBS).split(",")) {
            daemon.run(
                    JobKind.of(name).orElseThrow(() -> new IllegalStateException("unknown job " + name)),
                    trigger,
                    attempt);
        }
    }
}

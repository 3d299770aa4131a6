// The daemon's memory of each job's last run, in <state_dir>/schedule-state.json, written atomically.
package io.zpitr.appliance.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.archive.AtomicLanding;
import io.zpitr.archive.Landing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Each job's last run: when it started, how it ended, what triggered it, and the retry pending
 * after a failure. The daemon reads it at start-up to make up a run missed while it was down, and
 * {@code zpitr status} shows it. The file ({@value #FILE_NAME} in {@code state_dir}) is rewritten
 * whole on every change: a temporary file beside it, fsync, rename, so a crash leaves the old or the
 * new version, never a mix.
 *
 * <pre>{@code
 * {"format": 1,
 *  "jobs": {"snapshot": {"last_run": "2026-11-20T20:01:00.104Z", "outcome": "ok",
 *                        "finished": "2026-11-20T20:01:01.310Z", "trigger": "schedule", "attempt": 0,
 *                        "result": "zpitr-20261120T200100Z", "error": null, "next_retry": null}}}
 * }</pre>
 *
 * <p>Thread-safe; one daemon writes it (the daemon lock sees to that), any number of readers.
 */
public final class ScheduleState {
    public static final String FILE_NAME = "schedule-state.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** How a job's last run ended. */
    public enum Outcome {
        /** Never run: the daemon's first start recorded its time as the baseline for catch-up. */
        NONE("none"),
        /** Started and not finished: running now, or the daemon died during it. */
        RUNNING("running"),
        OK("ok"),
        FAILED("failed");

        private final String wireName;

        Outcome(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }

        static Outcome of(String text) {
            for (Outcome o : values()) {
                if (o.wireName.equals(text)) {
                    return o;
                }
            }
            throw new IllegalArgumentException("outcome '" + text + "' is not none, running, ok or failed");
        }
    }

    /**
     * One job's last run.
     *
     * @param lastRun   when it started (for a {@link Outcome#NONE} entry: when the daemon first saw the job)
     * @param outcome   how it ended
     * @param finished  when it ended, or null
     * @param trigger   {@code schedule}, {@code catch-up}, {@code retry N of M}, or {@code baseline}
     * @param attempt   0 for a scheduled or catch-up run, N for retry N
     * @param result    what it produced on success (a snapshot set id, a prune summary), or null
     * @param error     the first line of the error on failure, or null
     * @param nextRetry when the next retry runs after a failure, or null when none is pending
     */
    public record JobRun(
            Instant lastRun,
            Outcome outcome,
            Instant finished,
            String trigger,
            int attempt,
            String result,
            String error,
            Instant nextRetry) {
        /** The entry a first start writes: no run yet, and nothing before now to make up. */
        public static JobRun baseline(Instant now) {
            return new JobRun(now, Outcome.NONE, null, "baseline", 0, null, null, null);
        }
    }

    private final Path file;
    private final Map<String, JobRun> jobs;

    private ScheduleState(Path file, Map<String, JobRun> jobs) {
        this.file = file;
        this.jobs = jobs;
    }

    /** The file in {@code stateDir}. */
    public static Path fileIn(Path stateDir) {
        return stateDir.resolve(FILE_NAME);
    }

    /**
     * Reads the state in {@code stateDir}; a missing file is an empty state (a first start).
     *
     * @throws io.zpitr.appliance.error.ZpitrException {@code state-damaged} when the file exists but cannot be read or
     *         is not a state file
     */
    public static ScheduleState read(Path stateDir) {
        Path file = fileIn(stateDir);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new ScheduleState(file, new LinkedHashMap<>());
        } catch (IOException e) {
            throw ZpitrError.STATE_DAMAGED.exception(
                    "cannot read the schedule state " + file + ": " + e.getMessage(), e);
        }
        try {
            JsonNode root = JSON.readTree(bytes);
            if (root == null || !root.isObject() || !root.path("jobs").isObject()) {
                throw new IllegalArgumentException("no \"jobs\" object");
            }
            Map<String, JobRun> jobs = new LinkedHashMap<>();
            root.get("jobs").fields().forEachRemaining(e -> jobs.put(e.getKey(), parse(e.getValue())));
            return new ScheduleState(file, jobs);
        } catch (IOException | IllegalArgumentException | DateTimeParseException e) {
            throw ZpitrError.STATE_DAMAGED.exception(
                    "the schedule state " + file + " is damaged: " + e.getMessage()
                            + "\nHINT: the daemon moves a damaged file aside and runs each job once at start-up",
                    e);
        }
    }

    /** An empty state bound to the file in {@code stateDir}, for a start over a damaged file. */
    static ScheduleState empty(Path stateDir) {
        return new ScheduleState(fileIn(stateDir), new LinkedHashMap<>());
    }

    public Path file() {
        return file;
    }

    public synchronized Optional<JobRun> job(JobKind kind) {
        return Optional.ofNullable(jobs.get(kind.wireName()));
    }

    /** Every job's entry by name, in the file's order. */
    public synchronized Map<String, JobRun> jobs() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(jobs));
    }

    /**
     * Records {@code run} as the job's last run and rewrites the file atomically.
     *
     * @throws UncheckedIOException when the file cannot be written
     */
    public synchronized void put(JobKind kind, JobRun run) {
        jobs.put(kind.wireName(), run);
        write();
    }

    private void write() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("format", 1);
        ObjectNode all = root.putObject("jobs");
        jobs.forEach((name, run) -> {
            ObjectNode j = all.putObject(name);
            j.put("last_run", text(run.lastRun()));
            j.put("outcome", run.outcome().wireName());
            j.put("finished", text(run.finished()));
            j.put("trigger", run.trigger());
            j.put("attempt", run.attempt());
            j.put("result", run.result());
            j.put("error", run.error());
            j.put("next_retry", text(run.nextRetry()));
        });
        try {
            Path folder = file.getParent();
            Files.createDirectories(folder);
            AtomicLanding.write(
                    file, JSON.writeValueAsBytes(root), PosixFilePermissions.fromString("rw-r-----"), Landing.DURABLE);
        } catch (IOException e) {
            throw ZpitrError.FAILED.exception("cannot write the schedule state " + file + ": " + e.getMessage(), e);
        }
    }

    private static JobRun parse(JsonNode j) {
        if (!j.isObject()) {
            throw new IllegalArgumentException("a job entry is not an object");
        }
        Instant lastRun = instant(j, "last_run");
        if (lastRun == null) {
            throw new IllegalArgumentException("a job entry has no last_run");
        }
        return new JobRun(
                lastRun,
                Outcome.of(j.path("outcome").asText("none")),
                instant(j, "finished"),
                j.path("trigger").asText(null),
                j.path("attempt").asInt(0),
                textOrNull(j, "result"),
                textOrNull(j, "error"),
                instant(j, "next_retry"));
    }

    private static Instant instant(JsonNode j, String field) {
        String t = textOrNull(j, field);
        return t == null ? null : Instant.parse(t);
    }

    private static String textOrNull(JsonNode j, String field) {
        JsonNode v = j.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String text(Instant i) {
        return i == null ? null : i.toString();
    }
}

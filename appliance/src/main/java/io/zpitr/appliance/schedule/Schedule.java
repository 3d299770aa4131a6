// A job's schedule: standard 5-field cron or a Quartz expression, in the configured time zone.
package io.zpitr.appliance.schedule;

import java.text.ParseException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Date;
import java.util.Optional;
import java.util.TimeZone;
import org.quartz.CronExpression;

/**
 * A schedule as the configuration writes it. Five fields ({@code 1 4 * * *}) are standard cron:
 * minute, hour, day of month, month, day of week (0 or 7 = Sunday); six or seven fields are a
 * Quartz expression (seconds first). Cron is translated to Quartz: seconds 0, day-of-week numbers
 * shifted (cron 0-6 from Sunday, Quartz 1-7 from Sunday), and {@code ?} for the unused day field.
 * Cron's "day of month OR day of week" when both are restricted has no Quartz equivalent and is
 * refused rather than silently narrowed.
 */
public final class Schedule {
    private final String text;
    private final String quartz;
    private final CronExpression expression;

    private Schedule(String text, String quartz, CronExpression expression) {
        this.text = text;
        this.quartz = quartz;
        this.expression = expression;
    }

    public static Schedule parse(String text, ZoneId zone) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("an empty schedule");
        }
        String[] f = text.strip().split("\\s+");
        String quartz;
        if (f.length == 5) {
            quartz = fromCron(text, f);
        } else if (f.length == 6 || f.length == 7) {
            quartz = String.join(" ", f);
        } else {
            throw new IllegalArgumentException("schedule '" + text + "' has " + f.length
                    + " fields\nHINT: 5-field cron (\"1 4 * * *\") or a Quartz expression (\"0 1 4 * * ?\")");
        }
        try {
            CronExpression e = new CronExpression(quartz);
            e.setTimeZone(TimeZone.getTimeZone(zone));
            return new Schedule(text, quartz, e);
        } catch (ParseException e) {
            throw new IllegalArgumentException("schedule '" + text + "' is not valid: " + e.getMessage()
                    + (f.length == 5 ? " (as Quartz: '" + quartz + "')" : ""));
        }
    }

    private static String fromCron(String text, String[] f) {
        String dom = f[2];
        String dow = dowToQuartz(text, f[4]);
        if (!dom.equals("*") && !dow.equals("*")) {
            throw new IllegalArgumentException(
                    "schedule '" + text + "' restricts both day of month and day of week;"
                            + " cron runs on either, Quartz cannot say that\nHINT: use two schedules' worth of Quartz, or one of the two fields");
        }
        if (dow.equals("*")) {
            dow = "?";
        } else {
            dom = "?";
        }
        return "0 " + f[0] + " " + f[1] + " " + dom + " " + f[3] + " " + dow;
    }

    /** Shifts day-of-week numbers (cron 0-7, Sunday 0 or 7) to Quartz's 1-7 (Sunday 1); names pass. */
    private static String dowToQuartz(String text, String field) {
        StringBuilder out = new StringBuilder();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+").matcher(field);
        int last = 0;
        while (m.find()) {
            // A number after '/' is a step, not a day.
            boolean step = m.start() > 0 && field.charAt(m.start() - 1) == '/';
            int n = Integer.parseInt(m.group());
            if (!step && n > 7) {
                throw new IllegalArgumentException("schedule '" + text + "': day of week " + n + " is not 0-7");
            }
            out.append(field, last, m.start()).append(step ? n : (n % 7) + 1);
            last = m.end();
        }
        return out.append(field.substring(last)).toString();
    }

    /** The first run strictly after {@code instant}, if any. */
    public Optional<Instant> nextAfter(Instant instant) {
        Date next = expression.getTimeAfter(Date.from(instant));
        return Optional.ofNullable(next).map(Date::toInstant);
    }

    /**
     * Whether a run fell due after {@code lastRun} and at or before {@code now}: a run missed while
     * the daemon was down, to be made up once at start-up.
     */
    public boolean missedSince(Instant lastRun, Instant now) {
        return nextAfter(lastRun).map(next -> !next.isAfter(now)).orElse(false);
    }

    /** The Quartz form actually scheduled. */
    public String quartz() {
        return quartz;
    }

    @Override
    public String toString() {
        return text;
    }
}

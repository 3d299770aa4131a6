// The calendar periods of the retention classes, named in a zone: hour, day, ISO week, month, year.
package io.zpitr.appliance.retention;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.WeekFields;

/**
 * Maps an instant to the label of the period containing it; two instants share a period exactly when
 * their labels are equal, so the label is also the key.
 */
enum CalendarPeriod {
    /**
     * The local hour together with the offset in force: on a fall-back day the repeated hour is two
     * periods ({@code 02:00+02:00} and {@code 02:00+01:00} in Berlin), so every period is at most one
     * real hour long.
     */
    HOUR {
        @Override
        String label(ZonedDateTime t) {
            return t.toLocalDateTime()
                    .truncatedTo(ChronoUnit.HOURS)
                    .atOffset(t.getOffset())
                    .toString();
        }
    },
    /** The local date; a 23- or 25-hour day is one day. */
    DAY {
        @Override
        String label(ZonedDateTime t) {
            return t.toLocalDate().toString();
        }
    },
    /** The ISO week (Monday start; week 1 holds the year's first Thursday), labelled by its week-based year. */
    WEEK {
        @Override
        String label(ZonedDateTime t) {
            int week = t.get(WeekFields.ISO.weekOfWeekBasedYear());
            return t.get(WeekFields.ISO.weekBasedYear()) + (week < 10 ? "-W0" : "-W") + week;
        }
    },
    MONTH {
        @Override
        String label(ZonedDateTime t) {
            return YearMonth.from(t).toString();
        }
    },
    YEAR {
        @Override
        String label(ZonedDateTime t) {
            return Integer.toString(t.getYear());
        }
    };

    abstract String label(ZonedDateTime t);

    String label(Instant instant, ZoneId zone) {
        return label(instant.atZone(zone));
    }
}

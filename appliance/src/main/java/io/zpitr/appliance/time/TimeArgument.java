// Parses the times users type: ISO-8601 with offset, psql's output form, or local time in the configured zone.
package io.zpitr.appliance.time;

import io.zpitr.appliance.error.ZpitrError;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Time arguments (docs/design.md): {@code 2026-11-20T04:01:00+08:00} or {@code ...Z}; psql's form
 * {@code 2026-11-20 04:01:00.123456+08}, so a value pasted from a query works; or
 * {@code YYYY-MM-DD HH:MM:SS[.ffffff]} without offset, read in the configured zone. A local time
 * that a DST change skips or repeats in that zone is refused: it names no single instant.
 */
public final class TimeArgument {
    private static final Pattern FORM = Pattern.compile(
            "(\\d{4}-\\d{2}-\\d{2})[T ](\\d{2}:\\d{2}:\\d{2})(\\.\\d{1,9})?\\s*(Z|[+-]\\d{2}(?::?\\d{2})?)?");

    private TimeArgument() {}

    /** The instant, with the offset it was given in (or the zone's offset at that time). */
    public static OffsetDateTime parse(String text, ZoneId zone) {
        Matcher m = text == null ? null : FORM.matcher(text.strip());
        if (m == null || !m.matches()) {
            throw ZpitrError.INVALID_ARGUMENT.exception(
                    "'" + text + "' is not a time\nHINT: use 2026-11-20T04:01:00+08:00, "
                            + "2026-11-20 04:01:00.123456+08 (as psql prints it), or 2026-11-20 04:01:00 in the configured timezone");
        }
        LocalDateTime local;
        try {
            local = LocalDateTime.parse(m.group(1) + "T" + m.group(2) + (m.group(3) == null ? "" : m.group(3)));
        } catch (DateTimeException e) {
            throw ZpitrError.INVALID_ARGUMENT.exception(
                    "'" + text + "' is not a valid date and time: " + e.getMessage());
        }
        String offset = m.group(4);
        if (offset != null) {
            return OffsetDateTime.of(local, offset(offset, text));
        }
        List<ZoneOffset> valid = zone.getRules().getValidOffsets(local);
        if (valid.isEmpty()) {
            throw ZpitrError.INVALID_ARGUMENT.exception("'" + text + "' does not exist in " + zone
                    + " (the clocks skip it at a DST change)\nHINT: give an explicit offset");
        }
        if (valid.size() > 1) {
            throw ZpitrError.INVALID_ARGUMENT.exception("'" + text + "' happens twice in " + zone + " (at "
                    + valid.get(0) + " and " + valid.get(1) + ", a DST change)\nHINT: give an explicit offset");
        }
        return OffsetDateTime.of(local, valid.get(0));
    }

    private static ZoneOffset offset(String text, String whole) {
        try {
            if (text.equals("Z")) {
                return ZoneOffset.UTC;
            }
            String digits = text.replace(":", "");
            int hours = Integer.parseInt(digits.substring(1, 3));
            int minutes = digits.length() > 3 ? Integer.parseInt(digits.substring(3, 5)) : 0;
            int sign = text.startsWith("-") ? -1 : 1;
            return ZoneOffset.ofHoursMinutes(sign * hours, sign * minutes);
        } catch (DateTimeException | NumberFormatException e) {
            throw ZpitrError.INVALID_ARGUMENT.exception("'" + whole + "' has an invalid offset '" + text + "'");
        }
    }
}

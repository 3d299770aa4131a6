// A PostgreSQL WAL location (LSN), as PostgreSQL prints it: X/Y in hex.
package io.zpitr.appliance.postgres;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.archive.WalSegments;
import java.util.regex.Pattern;

/** A WAL location such as {@code 0/3000028}; ordered; parsed and printed in PostgreSQL's form. */
public record Lsn(long value) implements Comparable<Lsn> {
    private static final Pattern FORM = Pattern.compile("[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}");

    /** True when {@code text} is an LSN in PostgreSQL's form. */
    public static boolean isLsn(String text) {
        return text != null && FORM.matcher(text.strip()).matches();
    }

    /** The LSN a user typed; anything else is {@code invalid-argument}. */
    public static Lsn parse(String text) {
        if (!isLsn(text)) {
            throw ZpitrError.INVALID_ARGUMENT.exception(
                    "'" + text + "' is not an LSN (expected hex X/Y, e.g. 0/3000028)");
        }
        String[] parts = text.strip().split("/");
        return new Lsn(Long.parseLong(parts[0], 16) << 32 | Long.parseLong(parts[1], 16));
    }

    /** The WAL segment file holding this location, on the given timeline. */
    public String walFileName(long timeline, long segmentSize) {
        return WalSegments.nameAt(value, timeline, segmentSize);
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    @Override
    public String toString() {
        return String.format("%X/%X", value >>> 32, value & 0xFFFFFFFFL);
    }
}

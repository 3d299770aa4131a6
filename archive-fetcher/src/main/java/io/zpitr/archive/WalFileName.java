// A file name PostgreSQL may ask restore_command for, validated on construction.
package io.zpitr.archive;

import java.util.regex.Pattern;

/**
 * A name that {@code restore_command} may be asked for: a WAL segment
 * ({@code 000000010000000000000003}), a timeline history file ({@code 00000002.history}), a backup
 * label ({@code 000000010000000000000003.00000028.backup}) or a partial segment
 * ({@code 000000010000000000000003.partial}). Anything else — {@code ../../etc/passwd}, a path, an
 * empty string — is refused before any source is asked or any file is written.
 */
public final class WalFileName implements Comparable<WalFileName> {
    /** What kind of file the name denotes. */
    public enum Kind {
        SEGMENT,
        HISTORY,
        BACKUP,
        PARTIAL
    }

    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    private static final Pattern HISTORY = Pattern.compile("[0-9A-F]{8}\\.history");
    private static final Pattern BACKUP = Pattern.compile("[0-9A-F]{24}\\.[0-9A-F]{8}\\.backup");
    private static final Pattern PARTIAL = Pattern.compile("[0-9A-F]{24}\\.partial");

    private final String name;
    private final Kind kind;

    private WalFileName(String name, Kind kind) {
        this.name = name;
        this.kind = kind;
    }

    /** Validates; throws {@link IllegalArgumentException} naming the refused value. */
    public static WalFileName of(String name) {
        if (name != null) {
            if (SEGMENT.matcher(name).matches()) {
                return new WalFileName(name, Kind.SEGMENT);
            }
            if (HISTORY.matcher(name).matches()) {
                return new WalFileName(name, Kind.HISTORY);
            }
            if (BACKUP.matcher(name).matches()) {
                return new WalFileName(name, Kind.BACKUP);
            }
            if (PARTIAL.matcher(name).matches()) {
                return new WalFileName(name, Kind.PARTIAL);
            }
        }
        throw new IllegalArgumentException("'" + sanitized(name) + "' is not a WAL file name"
                + "\nHINT: expected a segment (24 hex digits), TTTTTTTT.history, a .backup or a .partial name,"
                + " as PostgreSQL passes in %f");
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    /** The timeline: the first 8 hex digits. */
    public long timeline() {
        return Long.parseLong(name.substring(0, 8), 16);
    }

    /** For segment-based names: the 16 hex digits after the timeline (log and segment numbers). */
    public String logAndSegment() {
        if (kind == Kind.HISTORY) {
            throw new IllegalStateException(name + " is a history file");
        }
        return name.substring(8, 24);
    }

    @Override
    public int compareTo(WalFileName o) {
        return name.compareTo(o.name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WalFileName w && w.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }

    private static String sanitized(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(Character.isISOControl(c) ? '?' : c);
            if (b.length() > 80) {
                return b + "...";
            }
        }
        return b.toString();
    }
}

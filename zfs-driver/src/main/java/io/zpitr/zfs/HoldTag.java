// A ZFS user-hold tag, validated on construction.
package io.zpitr.zfs;

import java.util.regex.Pattern;

/**
 * A hold tag such as {@code zpitr-legal-2026}. ZFS accepts nearly any string; zpitr accepts
 * letters, digits and {@code _ . : -}, starting with a letter or digit, at most 255 characters, so
 * a tag can never look like an option or carry whitespace into a log or an audit line.
 */
public record HoldTag(String value) {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}");

    public HoldTag {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new InvalidNameException(
                    "hold tag",
                    String.valueOf(value),
                    "use 1 to 255 letters, digits and _ . : -, starting with a letter or digit");
        }
    }

    public static HoldTag of(String value) {
        return new HoldTag(value);
    }

    @Override
    public String toString() {
        return value;
    }
}

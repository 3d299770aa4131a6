// Validation of ZFS user property names and values.
package io.zpitr.zfs;

import java.util.regex.Pattern;

/**
 * ZFS user properties ({@code module:property}): the name must contain a colon and use lower-case
 * letters, digits and {@code : . _ -}; at most 256 characters. Values are limited to 8191
 * characters (ZFS_MAXPROPLEN is 8192 with the NUL) and may not contain control characters, because
 * {@code zfs get -H} output is tab- and newline-separated and must parse back.
 */
public final class UserProperty {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]*:[a-z0-9_.:-]+");
    static final int MAX_VALUE_LENGTH = 8191;

    private UserProperty() {}

    public static String checkName(String name) {
        if (name == null || name.length() > 256 || !NAME.matcher(name).matches()) {
            throw new InvalidNameException(
                    "user property",
                    String.valueOf(name),
                    "expected module:property in lower-case letters, digits and _ . : -");
        }
        return name;
    }

    public static String checkValue(String name, String value) {
        if (value == null) {
            throw new IllegalArgumentException("user property " + name + ": value is null");
        }
        if (value.length() > MAX_VALUE_LENGTH) {
            throw new IllegalArgumentException("user property " + name + ": value longer than " + MAX_VALUE_LENGTH);
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                throw new IllegalArgumentException(
                        "user property " + name + ": value contains a control character at index " + i);
            }
        }
        return value;
    }
}

// ZFS's naming rules, narrowed to what is safe to put on any command line or path.
package io.zpitr.zfs;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks name components against ZFS's rules ({@code zfs_namecheck.c}): letters, digits and
 * {@code _ - . :}, no empty component, no {@code .} or {@code ..}. ZFS itself also allows a space;
 * zpitr does not, so that no name can be misread by a person or a script. The first character of a
 * component must be a letter or digit, so no name can pass for a command-line option.
 */
final class NameRules {
    /** ZFS_MAX_DATASET_NAME_LEN is 256 including the terminating NUL. */
    static final int MAX_NAME_LENGTH = 255;

    private static final Pattern COMPONENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]*");
    private static final Pattern POOL = Pattern.compile("[A-Za-z][A-Za-z0-9_.:-]*");
    private static final Set<String> RESERVED_POOLS = Set.of(
            "mirror", "raidz", "raidz1", "raidz2", "raidz3", "draid", "spare", "log", "cache", "special", "dedup");

    private NameRules() {}

    static void checkComponent(String kind, String whole, String component) {
        if (component.isEmpty()) {
            throw new InvalidNameException(kind, whole, "it has an empty component");
        }
        if (component.equals(".") || component.equals("..")) {
            throw new InvalidNameException(kind, whole, "'" + component + "' is not allowed as a component");
        }
        if (!COMPONENT.matcher(component).matches()) {
            throw new InvalidNameException(kind, whole, describeBadCharacter(component));
        }
    }

    static void checkPool(String whole, String pool) {
        checkComponent("dataset", whole, pool);
        if (!POOL.matcher(pool).matches()) {
            throw new InvalidNameException("dataset", whole, "a pool name must begin with a letter");
        }
        if (RESERVED_POOLS.contains(pool) || pool.matches("c[0-9].*")) {
            throw new InvalidNameException("dataset", whole, "'" + pool + "' is a reserved pool name");
        }
    }

    static void checkLength(String kind, String whole) {
        if (whole.length() > MAX_NAME_LENGTH) {
            throw new InvalidNameException(kind, whole, "it is longer than " + MAX_NAME_LENGTH + " characters");
        }
    }

    private static String describeBadCharacter(String component) {
        if (!Character.isLetterOrDigit(component.charAt(0)) || component.charAt(0) > 127) {
            return "a component must begin with a letter or digit";
        }
        for (int i = 0; i < component.length(); i++) {
            char c = component.charAt(i);
            if (!(c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == ':' || c == '-'))) {
                return "character " + printable(c) + " is not allowed (letters, digits and _ . : - only)";
            }
        }
        return "it is not a valid name";
    }

    private static String printable(char c) {
        if (Character.isWhitespace(c) || Character.isISOControl(c)) {
            return String.format("U+%04X", (int) c);
        }
        return "'" + c + "'";
    }
}

// A name refused before it could reach any process.
package io.zpitr.zfs;

/** A dataset, snapshot, hold tag or property name that breaks the naming rules. */
public class InvalidNameException extends IllegalArgumentException {
    public InvalidNameException(String kind, String name, String reason) {
        super("invalid " + kind + " name '" + printable(name) + "': " + reason);
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return b.toString();
    }
}

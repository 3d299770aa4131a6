// One line of zpitr check: what was checked, how it went, and what to do about it.
package io.zpitr.appliance.check;

/**
 * @param level  OK, WARN or FAIL
 * @param what   what was checked, e.g. "archive host25 (sftp)"
 * @param detail what was found
 * @param hint   what to do, for WARN and FAIL; may be null
 */
public record CheckResult(Level level, String what, String detail, String hint) {
    /** How a check went. */
    public enum Level {
        OK,
        WARN,
        FAIL
    }

    static CheckResult ok(String what, String detail) {
        return new CheckResult(Level.OK, what, detail, null);
    }

    static CheckResult warn(String what, String detail, String hint) {
        return new CheckResult(Level.WARN, what, detail, hint);
    }

    static CheckResult fail(String what, String detail, String hint) {
        return new CheckResult(Level.FAIL, what, detail, hint);
    }
}

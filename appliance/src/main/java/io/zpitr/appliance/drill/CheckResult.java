// One check of a drill and how it came out.
package io.zpitr.appliance.drill;

/**
 * @param name   the check's name: {@code target}, {@code amcheck} (and {@code amcheck heap} on 11-13),
 *               or a {@code drill.checks} name
 * @param status how it came out; {@code not_available} is recorded, never counted as passed
 * @param detail what was found, in a line or a few (the relation pg_amcheck named, the value a query returned)
 * @param millis how long it took
 */
public record CheckResult(String name, Status status, String detail, long millis) {
    /** Outcomes as the audit log and the report write them. */
    public enum Status {
        passed,
        failed,
        not_available
    }

    public boolean failed() {
        return status == Status.failed;
    }
}

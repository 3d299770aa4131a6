// Parses a --system-identifier value: the decimal number PostgreSQL prints (pg_controldata, pg_control_system()).
package io.zpitr.appliance.cli;

import io.zpitr.appliance.error.ZpitrError;

/** The value of {@code --system-identifier}: an unsigned 64-bit decimal, as PostgreSQL prints it. */
final class SystemIdentifierOption {
    private SystemIdentifierOption() {}

    static long parse(String text) {
        try {
            long id = Long.parseUnsignedLong(text.strip());
            if (id != 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw ZpitrError.INVALID_ARGUMENT.exception("--system-identifier '" + text + "' is not a system identifier"
                + "\nHINT: give the decimal number that pg_controldata prints as 'Database system identifier'");
    }
}

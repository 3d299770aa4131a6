// The major scenario on Debian's PostgreSQL 15, the major the runbook installs.
package io.zpitr.appliance.majors;

/** {@link MajorScenario} on PostgreSQL 15. */
class Major15IT extends MajorScenario {
    Major15IT() {
        super(15);
    }
}

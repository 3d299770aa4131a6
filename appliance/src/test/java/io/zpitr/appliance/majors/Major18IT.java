// The major scenario on PostgreSQL 18.1 from Maven Central: data checksums on by default in initdb, asynchronous I/O.
package io.zpitr.appliance.majors;

/** {@link MajorScenario} on PostgreSQL 18. */
class Major18IT extends MajorScenario {
    Major18IT() {
        super(18);
    }
}

// The catalog of zpitr's errors: each failure names one entry, and the entry gives its exit status.
package io.zpitr.appliance.error;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Every error zpitr reports, with the exit status it ends in, what it means and what to do. One
 * place, as pgBackRest's error.yaml: a failure raises a {@link ZpitrException} naming its entry,
 * {@code Main} turns the entry into the exit status, and docs/exit-codes.md lists the same table
 * (a test compares them). The code is printed with the message, so a user can look it up.
 */
public enum ZpitrError {
    USAGE(
            "usage",
            2,
            "the command line is wrong: an unknown option, a missing or extra argument",
            "zpitr COMMAND --help lists the options"),
    INVALID_ARGUMENT(
            "invalid-argument",
            2,
            "an argument's value is not valid: a time, LSN, transaction id, restore name, label, port or path",
            "the message names the value and its form"),
    INVALID_NAME(
            "invalid-name",
            2,
            "a dataset, snapshot, hold tag or WAL file name is not valid",
            "names are letters, digits and _ . : - (docs/snapshots.md)"),
    CONFIG_INVALID(
            "config-invalid",
            2,
            "the configuration is missing, unreadable, not valid YAML, has an unknown key or an invalid value, or lacks"
                    + " a key the command needs",
            "zpitr check reads the configuration and says what is wrong; every key: config/zpitr.example.yaml"),
    SETUP_INVALID(
            "setup-invalid",
            2,
            "the machine does not match the configuration: a dataset, folder, user or program it names is missing or"
                    + " not usable as configured",
            "zpitr check tests the setup"),
    MAJOR_MISMATCH(
            "major-mismatch",
            2,
            "restore, drill: postgres.bin_dir is of another PostgreSQL major than the snapshot set's",
            "point postgres.bin_dir at the snapshot's major (docs/restore-guide.md)"),
    NOT_RESTORABLE(
            "not-restorable",
            3,
            "restore, drill: the target is not restorable: no snapshot before it, WAL missing, or replay ended before it",
            "zpitr list shows the recoverable window"),
    SET_NOT_FOUND("set-not-found", 1, "no snapshot set has the id given", "zpitr list shows the ids"),
    RESTORE_NOT_FOUND("restore-not-found", 1, "no restore has the name given", "zpitr restores lists them"),
    RESTORE_EXISTS(
            "restore-exists",
            1,
            "a restore of that name exists already",
            "drop it with zpitr restore-drop, or choose another --name"),
    LOCKED(
            "locked",
            1,
            "another zpitr process holds the lock the operation needs (a snapshot, the daemon)",
            "wait for it to end; zpitr status shows what runs"),
    ZFS_FAILED(
            "zfs-failed",
            1,
            "a zfs command failed; its message is shown",
            "zpool status and zfs list show the pool's state"),
    PROCESS_FAILED(
            "process-failed",
            1,
            "an external program (pg_ctl, pg_basebackup, pg_controldata, ssh) failed or"
                    + " timed out; its output is shown",
            "the message names the program and its exit status"),
    POSTGRES_FAILED(
            "postgres-failed",
            1,
            "PostgreSQL did not start, refused, stopped or stalled",
            "the message names the server log to read"),
    IO_FAILED(
            "io-failed",
            1,
            "a file or folder could not be read or written; the message names it",
            "check its permissions, its owner and the free space"),
    WAL_NOT_FOUND(
            "wal-not-found",
            1,
            "wal-fetch: the file is on no source that answered (PostgreSQL's normal end of the archive)",
            ""),
    WAL_NO_SOURCE(
            "wal-no-source",
            4,
            "wal-fetch: no source could be asked (every host down, refused, or with an unknown host key)",
            "docs/wal-fetch.md: the per-source lines say why"),
    WAL_UNVERIFIED(
            "wal-unverified",
            5,
            "wal-fetch: copies were found, but none passed verification; nothing was written",
            "docs/wal-fetch.md: the per-source lines name each refusal"),
    AUDIT_LOG(
            "audit-log",
            1,
            "the audit log cannot be read or written, or its last line is damaged",
            "docs/audit-guide.md"),
    STATE_DAMAGED(
            "state-damaged",
            1,
            "something zpitr wrote is damaged: a zpitr: property on a dataset or snapshot, or a state file",
            "the message names it; zfs get all and the file show its value"),
    REPLICA_DIVERGED(
            "replica-diverged",
            1,
            "replicate: the target holds snapshots the source does not have after the"
                    + " newest common set, or a dataset that shares no set with the source; nothing was changed",
            "zpitr replicate --dry-run names them; --force-rollback discards them (docs/operations.md, Offsite replica)"),
    REPLICATION_FAILED(
            "replication-failed",
            1,
            "replicate: a target could not be reached, or a set could not be sent; the"
                    + " target keeps every set before it, and the next run resumes there",
            "the message carries the target's own error"),
    FAILED("failed", 1, "the operation failed; the message says why", ""),
    INTERNAL(
            "internal",
            1,
            "an unexpected error: a bug in zpitr",
            "run again with ZPITR_LOG_LEVEL=debug for the stack trace, and report it");

    /** What each exit status means, for --help, the man page and docs/exit-codes.md. */
    public static final Map<Integer, String> EXIT_STATUS = exitStatuses();

    private final String code;
    private final int exitStatus;
    private final String meaning;
    private final String hint;

    ZpitrError(String code, int exitStatus, String meaning, String hint) {
        this.code = code;
        this.exitStatus = exitStatus;
        this.meaning = meaning;
        this.hint = hint;
    }

    /** The short name printed with the message: {@code zpitr: [set-not-found] ...}. */
    public String code() {
        return code;
    }

    public int exitStatus() {
        return exitStatus;
    }

    public String meaning() {
        return meaning;
    }

    /** What to do, printed as a HINT line when the message has none; may be empty. */
    public String hint() {
        return hint;
    }

    /** A failure of this kind, with its message (which may carry its own HINT: lines). */
    public ZpitrException exception(String message) {
        return new ZpitrException(this, message, null);
    }

    public ZpitrException exception(String message, Throwable cause) {
        return new ZpitrException(this, message, cause);
    }

    private static Map<Integer, String> exitStatuses() {
        Map<Integer, String> m = new LinkedHashMap<>();
        m.put(0, "success");
        m.put(
                1,
                "the operation failed; the message says why (HINT: lines); wal-fetch: the file is on no source that"
                        + " answered");
        m.put(2, "usage or configuration error; nothing was changed");
        m.put(3, "restore, drill: the target is not restorable");
        m.put(4, "wal-fetch: no source could be asked");
        m.put(5, "wal-fetch: copies were found, but none passed verification");
        for (ZpitrError e : values()) {
            if (!m.containsKey(e.exitStatus)) {
                throw new ExceptionInInitializerError(
                        "exit status " + e.exitStatus + " of " + e.code + " has no meaning");
            }
        }
        return Collections.unmodifiableMap(m);
    }

    /** The entries with this exit status, in catalog order, by code. */
    public static String codesFor(int exitStatus) {
        return Arrays.stream(values())
                .filter(e -> e.exitStatus == exitStatus)
                .map(ZpitrError::code)
                .collect(Collectors.joining(", "));
    }
}

// The restores on this appliance, as their clones' ZFS properties record them: listing, dropping, cleaning up.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.wal.PrefetcherProcess;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.Zfs;
import io.zpitr.zfs.ZfsEntry;
import io.zpitr.zfs.ZfsException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Like the snapshot catalog, the pool is the catalog: a restore is the dataset
 * {@code restore.dataset_root/NAME}, carrying what it was made from and its state as {@code zpitr:}
 * user properties, with the clones below it. Nothing else records restores, so nothing can disagree
 * with the pool.
 */
final class RestoreCatalog {
    static final String P_NAME = "zpitr:restore";
    static final String P_SNAPSHOT = "zpitr:restore_snapshot";
    static final String P_TARGET = "zpitr:restore_target";
    static final String P_PORT = "zpitr:restore_port";
    static final String P_PGDATA = "zpitr:restore_pgdata";
    static final String P_STATE = "zpitr:restore_state";
    /** When the daemon may drop the restore (ISO-8601 UTC); absent: never. */
    static final String P_EXPIRES = "zpitr:restore_expires";
    /** The process building it ({@link ProcessTrees#identity}): a restore whose builder was killed shows as interrupted. */
    static final String P_BUILDER = "zpitr:restore_builder";
    /** A restore whose building process died (killed, the machine went down) before it recorded how it ended. */
    static final String INTERRUPTED = "interrupted";
    /** How long a prefetcher gets to end on TERM before KILL: a worker finishing a segment's rename. */
    static final Duration PREFETCHER_GRACE = Duration.ofSeconds(10);

    private final Zfs zfs;
    private final ProcessRunner runner;
    private final Optional<RestoreSettings> settings;
    private final Path stateDir;

    /** @param settings empty when the configuration has no restore section: then there are no restores */
    RestoreCatalog(Zfs zfs, ProcessRunner runner, Optional<RestoreSettings> settings, Path stateDir) {
        this.zfs = zfs;
        this.runner = runner;
        this.settings = settings;
        this.stateDir = stateDir;
    }

    private RestoreSettings settings() {
        return settings.orElseThrow(
                () -> new ConfigException("restore.dataset_root and restore.mount_root are not configured"));
    }

    /** Every restore below restore.dataset_root. */
    List<RestoredInstance> list() {
        DatasetName base = settings().datasetRoot();
        List<ZfsEntry> listed;
        try {
            // One zfs command, not a look for the base first: every restore lists them as it starts.
            listed = zfs.list(
                    base,
                    true,
                    Set.of(Zfs.Type.FILESYSTEM),
                    List.of(P_NAME, P_SNAPSHOT, P_TARGET, P_PORT, P_PGDATA, P_STATE, P_BUILDER, P_EXPIRES));
        } catch (ZfsException.NoSuchDatasetException e) {
            return List.of(); // no restore made yet
        }
        List<RestoredInstance> all = new ArrayList<>();
        for (ZfsEntry e : listed) {
            // A restore is a direct child of the base; the clones below it inherit its user properties.
            if (e.property(P_SNAPSHOT).isEmpty()
                    || !DatasetName.of(e.name()).parent().map(base::equals).orElse(false)) {
                continue;
            }
            String state = e.property(P_STATE).orElse("?");
            String pgdata = e.property(P_PGDATA).orElse("");
            boolean up = !pgdata.isEmpty()
                    && RestoredPostgres.postmasterOf(Path.of(pgdata)).isPresent();
            if (state.equals("running") || state.equals("paused")) {
                state = up ? state : "stopped";
            } else if (state.equals("building")
                    && e.property(P_BUILDER).filter(b -> !ProcessTrees.runs(b)).isPresent()) {
                state = INTERRUPTED;
            }
            all.add(new RestoredInstance(
                    e.property(P_NAME).orElse(""),
                    e.name(),
                    e.property(P_SNAPSHOT).orElse(""),
                    e.property(P_TARGET).orElse(""),
                    parsePort(e.property(P_PORT).orElse("0")),
                    pgdata,
                    state,
                    e.property(P_EXPIRES).filter(x -> !x.isBlank()).orElse(null)));
        }
        return all;
    }

    private static int parsePort(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return 0; // a damaged property: shown as port 0 rather than hiding the restore
        }
    }

    /** Stops the instance and destroys the clones; true if there was something to drop. Idempotent. */
    boolean drop(String name) throws IOException {
        new RestoreRequest(name, 0, RestoreRequest.Action.shutdown, false, false); // validates the name
        DatasetName root = settings().rootOf(name);
        if (!zfs.exists(root)) {
            return false;
        }
        stopIfRunning(root);
        destroyClones(root, name, pgdataOf(root));
        return true;
    }

    /**
     * A restore of the same name left by a crash: stop what runs on it and start over.
     *
     * @param existing the restores as {@link #list} just gave them
     */
    void cleanUpEarlier(String name, List<RestoredInstance> existing, PrintWriter out) {
        Optional<RestoredInstance> earlier =
                existing.stream().filter(r -> r.name().equals(name)).findFirst();
        if (earlier.isEmpty()) {
            return;
        }
        String state = earlier.get().state();
        if (!state.equals("building") && !state.equals("failed") && !state.equals(INTERRUPTED)) {
            throw ZpitrError.RESTORE_EXISTS.exception("a restore named '" + name + "' exists (" + state + ")"
                    + "\nHINT: zpitr restore-drop " + name + " first, or choose another --name");
        }
        DatasetName root = settings().rootOf(name);
        Optional<String> builder = zfs.get(root, P_BUILDER).filter(b -> !b.isEmpty());
        if (state.equals("building") && builder.isPresent()) {
            throw ZpitrError.RESTORE_EXISTS.exception("a restore named '" + name + "' is being built by process "
                    + builder.get().replaceAll("/.*", "") + "\nHINT: wait for it to end, or choose another --name");
        }
        out.println("cleaning up an earlier, unfinished restore named " + name);
        stopIfRunning(root);
        try {
            destroyClones(root, name, pgdataOf(root));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Removes the folders in {@code state_dir/restore-wal} ({@link RestoreClones#localizeWal}) of
     * this configuration's restores that are gone without zpitr (their clones destroyed with
     * {@code zfs destroy}): each is named after its restore's dataset, and one below
     * {@code restore.dataset_root} that is not among {@code existing}, and no longer exists when
     * looked at again (a restore made meanwhile by another process has its dataset before its
     * folder), is removed as {@link RestoreClones#removeOwnWal} does. Folders of other dataset roots
     * (another configuration sharing the state_dir) are left alone. Returns what it removed; one it
     * cannot remove is reported on {@code out} and left.
     *
     * @param existing the restores as {@link #list} just gave them
     */
    List<String> sweepOrphanWal(List<RestoredInstance> existing, PrintWriter out) {
        RestoreSettings s = settings();
        String prefix = s.datasetRoot().full().replace('/', '%') + "%";
        Set<String> known = new java.util.HashSet<>();
        existing.forEach(r -> known.add(r.name()));
        List<String> removed = new ArrayList<>();
        List<Path> folders;
        try (Stream<Path> list = Files.list(s.walRoot())) {
            folders = list.toList();
        } catch (NoSuchFileException e) {
            return removed;
        } catch (IOException | UncheckedIOException e) {
            out.println("WARNING: cannot look through " + s.walRoot() + ": " + e.getMessage());
            return removed;
        }
        for (Path folder : folders) {
            String file = folder.getFileName().toString();
            if (!file.startsWith(prefix)) {
                continue;
            }
            String name = file.substring(prefix.length());
            if (name.isEmpty() || name.contains("%") || known.contains(name)) {
                continue;
            }
            DatasetName root;
            try {
                root = s.rootOf(name);
            } catch (RuntimeException e) {
                continue; // not named after a dataset: not a restore's folder
            }
            try {
                if (zfs.exists(root)) {
                    continue;
                }
                RestoreClones.removeOwnWal(runner, s.osUser(), folder);
                removed.add(name);
            } catch (IOException | RuntimeException e) {
                out.println("WARNING: cannot remove " + folder + ", the pg_wal of a restore that is gone: "
                        + e.getMessage().lines().findFirst().orElse(""));
            }
        }
        return removed;
    }

    /**
     * The restores whose expiry has passed, in the order listed. A restore still being built is
     * not one of them: its expiry counts from when it is done. A damaged expiry is not acted on.
     */
    List<RestoredInstance> expired(java.time.Instant now) {
        return list().stream()
                .filter(r -> r.expires() != null && !r.state().equals("building"))
                .filter(r -> {
                    try {
                        return !java.time.Instant.parse(r.expires()).isAfter(now);
                    } catch (java.time.format.DateTimeParseException e) {
                        return false;
                    }
                })
                .toList();
    }

    /** Records an expiry on a restore (a kept drill's {@code --ttl}). */
    void setExpiry(String name, java.time.Instant at) {
        zfs.setUserProperty(settings().rootOf(name), P_EXPIRES, at.toString());
    }

    void setState(DatasetName root, String state) {
        zfs.setUserProperty(root, P_STATE, state);
    }

    /** The restore's PGDATA in its clone, or null if the restore failed before it got that far. */
    private Path pgdataOf(DatasetName root) {
        return zfs.get(root, P_PGDATA).filter(p -> !p.isEmpty()).map(Path::of).orElse(null);
    }

    /**
     * Destroys the restore's clones and its own {@code pg_wal} and spool off the clone
     * ({@link RestoreClones}), after stopping any prefetcher process of its spool and waiting until
     * it is gone: it holds files open in the spool, which keeps the clone busy. Restores made
     * by this version fetch WAL in the restoring process, which is over by then; a restore made by
     * an earlier version, or a restore_command that PostgreSQL's shutdown left running, may have
     * started one. Once more if the clone is busy still.
     */
    void destroyClones(DatasetName root, String name, Path pgdata) throws IOException {
        Optional<Path> mount =
                zfs.get(root, "mountpoint").filter(m -> m.startsWith("/")).map(Path::of);
        for (int attempt = 1; ; attempt++) {
            if (pgdata != null) {
                PrefetcherProcess.stop(RestoreService.spoolIn(pgdata), PREFETCHER_GRACE);
            }
            // PostgreSQL runs restore_command in PGDATA: one its shutdown left running keeps the clone busy.
            mount.ifPresent(m -> ProcessTrees.holding(m).stream()
                    .filter(RestoreCatalog::ours)
                    .forEach(p -> ProcessTrees.stop(p, PREFETCHER_GRACE)));
            try {
                zfs.destroy(root, true);
                break;
            } catch (ZfsException.DatasetBusyException e) {
                if (attempt == 5) {
                    List<String> holders = mount.map(ProcessTrees::holding).orElse(List.of()).stream()
                            .map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                            .toList();
                    throw ZpitrError.ZFS_FAILED.exception(
                            e.getMessage()
                                    + (holders.isEmpty()
                                            ? ""
                                            : "\nHINT: these processes work in the clone: "
                                                    + String.join("; ", holders)),
                            e);
                }
                sleepQuietly(Duration.ofMillis(500L * attempt)); // a process in its last moments
            }
        }
        // The restore's own pg_wal and spool off the clone, if it had them: its server is stopped.
        RestoreClones.removeOwnWal(runner, settings().osUser(), settings().walHomeOf(name));
        removeStateDirSpool(name);
    }

    /** A process zpitr or the restored PostgreSQL started: never a DBA's shell that happens to be in the clone. */
    private static boolean ours(ProcessHandle p) {
        String command = p.info().commandLine().orElse("");
        return command.contains("wal-fetch")
                || command.contains("wal-prefetch")
                || command.contains("zpitr.jar")
                || p.info()
                        .command()
                        .map(c -> c.endsWith("/postgres") || c.endsWith("/zpitr"))
                        .orElse(false);
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Restores made before the spool moved into the clone kept it in {@code state_dir/restores/NAME}:
     * stops its prefetcher and removes it, once more if something wrote into it meanwhile.
     */
    private void removeStateDirSpool(String name) throws IOException {
        Path dir = stateDir.resolve("restores").resolve(name);
        Path spool = dir.resolve("spool");
        for (int attempt = 1; ; attempt++) {
            PrefetcherProcess.stop(spool, PREFETCHER_GRACE);
            try {
                deleteTree(dir);
                return;
            } catch (DirectoryNotEmptyException | NoSuchFileException | UncheckedIOException e) {
                if (attempt == 3) {
                    throw new IOException(
                            "cannot remove the spool " + dir + " of restore " + name
                                    + ": something keeps writing into it (" + e.getMessage() + ")",
                            e);
                }
            }
        }
    }

    /** Deletes a folder and what is in it, links as links (never what they lead to). */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private void stopIfRunning(DatasetName root) {
        Optional<String> pgdata = zfs.get(root, P_PGDATA);
        // Only a server of this clone: a postmaster.pid the snapshot brought along names the live standby's.
        if (pgdata.isPresent()
                && !pgdata.get().isEmpty()
                && RestoredPostgres.postmasterOf(Path.of(pgdata.get())).isPresent()) {
            RestoreSettings s = settings();
            ProcessResult r = runner.run(Command.of(RestoredPostgres.asUser(
                            s.osUser(),
                            s.binDir().resolve("pg_ctl").toString(),
                            "stop",
                            "-D",
                            pgdata.get(),
                            "-m",
                            "fast",
                            "-w",
                            "-t",
                            "120"))
                    .timeout(Duration.ofMinutes(3)));
            if (!r.succeeded()
                    && RestoredPostgres.postmasterOf(Path.of(pgdata.get())).isPresent()) {
                Path log = s.mountOf(root.leaf()).resolve("postgresql.log");
                throw ZpitrError.POSTGRES_FAILED.exception("cannot stop the PostgreSQL of restore " + root + ": "
                        + r.stderr().strip() + "\nits log " + log + " ends with:\n" + lastLines(log, 20));
            }
        }
    }

    /** The last lines of a file for an error message; a note instead when it cannot be read. */
    static String lastLines(Path file, int count) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read it: " + e.getMessage() + ")";
        }
    }
}

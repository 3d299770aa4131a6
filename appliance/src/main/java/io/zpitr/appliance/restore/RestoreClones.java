// Clones a snapshot set below a restore's root and makes the clone a data directory of its own.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.postgres.OsUser;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.appliance.wal.PrefetcherProcess;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.SnapshotName;
import io.zpitr.zfs.Zfs;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Every dataset of the set is cloned (O(1), whatever the size of the data) below the restore's root,
 * each mounted under the restore's mount folder by its leaf name. Links that lead out of the
 * snapshot never lead to the live standby's files: {@code pg_wal} kept outside ZFS (as the runbook
 * advises for the live standby) becomes a {@code pg_wal} of the restore's own, outside ZFS too when
 * it can ({@link #localizeWal}); a tablespace on another configured dataset points at that
 * dataset's clone. The live standby's files never change.
 */
final class RestoreClones {
    private final Zfs zfs;
    private final ProcessRunner runner;
    private final PrintWriter out;

    /** Mountpoints of the live datasets, looked up once. */
    private final Map<DatasetName, Path> liveMounts = new HashMap<>();

    /**
     * @param knownMounts mountpoints of live datasets already looked up ({@link #liveMounts}); the
     *                    others are looked up when needed
     */
    RestoreClones(Zfs zfs, ProcessRunner runner, PrintWriter out, Map<DatasetName, Path> knownMounts) {
        this.zfs = zfs;
        this.runner = runner;
        this.out = out;
        this.liveMounts.putAll(knownMounts);
    }

    private Path liveMount(SnapshotName snap) {
        return liveMounts.computeIfAbsent(snap.dataset(), d -> mountOf(zfs, d));
    }

    /** The mountpoints of {@code datasets}, for a clone about to be made (looked up beside its plan). */
    static Map<DatasetName, Path> liveMounts(Zfs zfs, List<DatasetName> datasets) {
        Map<DatasetName, Path> mounts = new HashMap<>();
        for (DatasetName d : datasets) {
            mounts.put(d, mountOf(zfs, d));
        }
        return mounts;
    }

    private static Path mountOf(Zfs zfs, DatasetName dataset) {
        return Path.of(zfs.get(dataset, "mountpoint").orElseThrow());
    }

    /**
     * Where the clone's PGDATA will be: in the first dataset's clone, where the live one is in the
     * first dataset.
     *
     * @throws ConfigException when postgres.data_dir is not inside the first dataset
     */
    Path pgdataIn(SnapshotSet set, Path mountRoot, Path liveData) {
        SnapshotName first = set.snapshots().get(0);
        Path liveMount = liveMount(first);
        if (!liveData.startsWith(liveMount)) {
            throw new ConfigException("postgres.data_dir " + liveData + " is not inside the first dataset "
                    + first.dataset() + " (mounted at " + liveMount + ")\nHINT: list the dataset holding PGDATA first");
        }
        return mountRoot.resolve(first.dataset().leaf()).resolve(liveMount.relativize(liveData));
    }

    /**
     * Clones the set below {@code root} and returns the clone's PGDATA.
     *
     * @param liveData the live standby's PGDATA, which must lie in the set's first dataset
     * @param walHome  where the restore's own {@code pg_wal} goes when the snapshot's leads out of it
     */
    Path cloneSet(
            SnapshotSet set,
            DatasetName root,
            Path mountRoot,
            Path liveData,
            String restoreName,
            String osUser,
            Path walHome)
            throws IOException {
        Map<Path, Path> liveToClone = new LinkedHashMap<>();
        Set<String> leaves = new HashSet<>();
        Path pgdata = null;
        for (SnapshotName snap : set.snapshots()) {
            String leaf = snap.dataset().leaf();
            for (int i = 2; !leaves.add(leaf); i++) {
                leaf = snap.dataset().leaf() + "-" + i;
            }
            Path cloneMount = mountRoot.resolve(leaf);
            zfs.clone(snap, root.child(leaf), cloneMount, Map.of(RestoreCatalog.P_NAME, restoreName));
            liveToClone.put(liveMount(snap), cloneMount);
            if (pgdata == null) {
                pgdata = pgdataIn(set, mountRoot, liveData);
            }
        }
        Files.deleteIfExists(pgdata.resolve("postmaster.pid"));
        localizeWal(pgdata, osUser, walHome);
        repointTablespaces(pgdata, liveToClone);
        return pgdata;
    }

    /**
     * The live standby's {@code pg_wal} lives outside ZFS (the runbook's layout): the snapshot holds a
     * link to a folder the restore must never write into. The restore gets an empty {@code pg_wal} of
     * its own (the WAL it needs comes from the archive through restore_command): {@code walHome}'s,
     * off ZFS like the live standby's, when PostgreSQL can reach it there; a folder of the clone
     * otherwise. Off ZFS, every segment PostgreSQL restores and the new timeline's first segment,
     * written and flushed at promotion, skip zfs-fuse (a restore to the snapshot's own point 0.3 s
     * faster, measured: docs/restore-guide.md). The spool goes beside it ({@link
     * RestoreService#spoolIn}); {@link RestoreCatalog#destroyClones} removes both.
     */
    private void localizeWal(Path pgdata, String osUser, Path walHome) throws IOException {
        Path wal = pgdata.resolve(
                Files.exists(pgdata.resolve("pg_wal"), LinkOption.NOFOLLOW_LINKS) ? "pg_wal" : "pg_xlog");
        if (!Files.isSymbolicLink(wal)) {
            return;
        }
        Path target = Files.readSymbolicLink(wal);
        Files.delete(wal);
        Path own = wal;
        if (reachableOffZfs(walHome.getParent(), osUser)) {
            // A folder of that name left by a restore whose clones went another way: not ours to trust.
            removeOwnWal(runner, osUser, walHome);
            Files.createDirectories(walHome);
            OsUser.giveTo(osUser, walHome);
            Files.setPosixFilePermissions(walHome, PosixFilePermissions.fromString("rwx------"));
            own = walHome.resolve("pg_wal");
        }
        Files.createDirectories(own.resolve("archive_status"));
        OsUser.giveTo(osUser, own, own.resolve("archive_status"));
        Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rwx------"));
        if (own.equals(wal)) {
            out.println("pg_wal pointed outside the snapshot (" + target + "); the clone has its own pg_wal");
        } else {
            Files.createSymbolicLink(wal, own);
            out.println("pg_wal pointed outside the snapshot (" + target + "); the restore's own pg_wal is " + own);
        }
    }

    /**
     * Removes a restore's own {@code pg_wal} folder ({@link #localizeWal}), if there is one. What is
     * in it belongs to the OS user PostgreSQL ran as, and is removed as that user ({@code find -delete},
     * which follows no link): a link planted among those files, or a folder swapped for one while root
     * walked the tree, cannot lead root's deletes elsewhere. Then root removes the folder itself,
     * which stands in root's {@code restore-wal}.
     *
     * <p>A prefetcher of its spool that still runs (a restore_command of the restore's server,
     * started again by hand, left one whose end is up to a second behind the server's) is stopped
     * first: it clears its marks from the spool as it ends, under {@code find}'s feet (CI saw
     * "cannot delete .missing-00000002.history: No such file or directory"). A file gone
     * meanwhile fails a pass; the next pass finds what is left.
     */
    static void removeOwnWal(ProcessRunner runner, String osUser, Path walHome) throws IOException {
        if (!Files.exists(walHome, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(walHome, LinkOption.NOFOLLOW_LINKS)) {
            for (Path spool : List.of(
                    walHome.resolve(RestoreService.SPOOL),
                    walHome.resolve("pg_wal").resolve(RestoreService.SPOOL))) {
                if (Files.isDirectory(spool, LinkOption.NOFOLLOW_LINKS)) {
                    PrefetcherProcess.stop(spool, RestoreCatalog.PREFETCHER_GRACE);
                }
            }
            for (int attempt = 1; ; attempt++) {
                var emptied = runner.run(Command.of(OsUser.command(
                                osUser, List.of("find", walHome.toString(), "-mindepth", "1", "-delete")))
                        .timeout(java.time.Duration.ofMinutes(5)));
                // Gone meanwhile: another zpitr removed it (a restore's sweep beside a drop).
                if (emptied.succeeded() || !Files.exists(walHome, LinkOption.NOFOLLOW_LINKS)) {
                    break;
                }
                if (attempt == 3) {
                    emptied.requireSuccess();
                }
            }
        }
        Files.deleteIfExists(walHome);
    }

    /**
     * Whether {@code dir} (made if missing, 0755) is off ZFS, and PostgreSQL, running as {@code
     * osUser}, can pass through it and every folder above it (a state_dir only root may enter keeps
     * it out). False, too, when it cannot be made.
     */
    static boolean reachableOffZfs(Path dir, String osUser) {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            String type = Files.getFileStore(dir).type();
            if (type.equals("zfs") || type.startsWith("fuse")) {
                return false;
            }
            for (Path p = dir; p != null; p = p.getParent()) {
                if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)
                        && !Files.getOwner(p).getName().equals(osUser)) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false; // a state_dir that cannot be written: the clone's own folder will do
        }
    }

    private void repointTablespaces(Path pgdata, Map<Path, Path> liveToClone) throws IOException {
        Path tblspc = pgdata.resolve("pg_tblspc");
        if (!Files.isDirectory(tblspc)) {
            return;
        }
        try (Stream<Path> links = Files.list(tblspc)) {
            for (Path link : links.toList()) {
                if (!Files.isSymbolicLink(link)) {
                    continue; // an in-place tablespace (allow_in_place_tablespaces): inside the clone already
                }
                Path target = Files.readSymbolicLink(link);
                Path moved = null;
                for (Map.Entry<Path, Path> e : liveToClone.entrySet()) {
                    if (target.startsWith(e.getKey())) {
                        moved = e.getValue().resolve(e.getKey().relativize(target));
                        break;
                    }
                }
                if (moved == null) {
                    throw ZpitrError.SETUP_INVALID.exception("tablespace " + link.getFileName() + " lives at " + target
                            + ", outside every configured dataset: the snapshot does not hold it"
                            + "\nHINT: put the tablespace on a dataset and list it in zfs.datasets");
                }
                Files.delete(link);
                Files.createSymbolicLink(link, moved);
                runner.run(Command.of("chown", "-h", Files.getOwner(moved).getName(), link.toString()))
                        .requireSuccess();
                out.println("tablespace " + link.getFileName() + " -> " + moved);
            }
        }
    }
}

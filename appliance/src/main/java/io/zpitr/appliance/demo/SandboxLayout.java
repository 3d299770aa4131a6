// Where everything of one demo sandbox lives: one folder, one pool, names derived from the folder.
package io.zpitr.appliance.demo;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.zfs.DatasetName;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * The sandbox's layout. Everything the demo makes lives under {@link #dir()} — the pool's backing
 * file and mountpoint included — or is a process whose command line names it, so that
 * {@code zpitr demo --clean} can find all of it again from the folder alone.
 */
final class SandboxLayout {
    static final Path DEFAULT_DIR = Path.of("/var/tmp/zpitr-demo");
    /** A file only a sandbox has: --clean never removes a folder without it. */
    static final String MARKER = ".zpitr-demo";
    /** The folder name ends up in archive source paths and socket paths: keep it plain and short. */
    private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9/_.+-]+");

    private static final int MAX_LENGTH = 60;

    private final Path dir;
    private final String pool;

    private SandboxLayout(Path dir, String pool) {
        this.dir = dir;
        this.pool = pool;
    }

    /**
     * The layout for a sandbox folder.
     *
     * @throws IllegalArgumentException for a relative, unnormalized, odd or too long path
     */
    static SandboxLayout at(Path dir) {
        String text = dir.toString();
        if (!dir.isAbsolute() || !dir.normalize().equals(dir) || text.contains("/./") || text.contains("/../")) {
            throw ZpitrError.INVALID_ARGUMENT.exception("--dir must be an absolute path without . or ..: " + dir);
        }
        if (!SAFE_PATH.matcher(text).matches() || dir.getNameCount() < 2) {
            throw ZpitrError.INVALID_ARGUMENT.exception(
                    "--dir " + dir + " must be a folder at least two levels deep, named with"
                            + " letters, digits and / _ . + - only\nHINT: the default is " + DEFAULT_DIR);
        }
        if (text.length() > MAX_LENGTH) {
            throw ZpitrError.INVALID_ARGUMENT.exception("--dir " + dir + " is longer than " + MAX_LENGTH
                    + " characters: PostgreSQL's socket paths below it would be too long\nHINT: the default is "
                    + DEFAULT_DIR);
        }
        return new SandboxLayout(dir, poolName(dir));
    }

    /** zpitr-demo for the default folder; another folder gets its own pool, so two sandboxes never collide. */
    static String poolName(Path dir) {
        if (dir.equals(DEFAULT_DIR)) {
            return "zpitr-demo";
        }
        CRC32 crc = new CRC32();
        crc.update(dir.toString().getBytes(StandardCharsets.UTF_8));
        return String.format("zpitr-demo-%08x", crc.getValue());
    }

    /** The pool of the ZFS-only demo of earlier versions, which wrote no marker. */
    static final String EARLIER_POOL = "zpitrdemo";

    Path dir() {
        return dir;
    }

    String pool() {
        return pool;
    }

    Path marker() {
        return dir.resolve(MARKER);
    }

    /** Present when the demo started the zfs-fuse daemon itself (so --clean may stop it again). */
    Path startedZfsFuse() {
        return dir.resolve(".started-zfs-fuse");
    }

    Path poolImage() {
        return dir.resolve("pool.img");
    }

    Path mnt() {
        return dir.resolve("mnt");
    }

    DatasetName dataDataset() {
        return DatasetName.of(pool).child("pg").child("data");
    }

    DatasetName tablespaceDataset() {
        return DatasetName.of(pool).child("pg").child("tblspc1");
    }

    DatasetName restoreRoot() {
        return DatasetName.of(pool).child("restore");
    }

    Path restoreMount() {
        return mnt().resolve("restore");
    }

    Path config() {
        return dir.resolve("zpitr.yaml");
    }

    Path state() {
        return dir.resolve("state");
    }

    Path spool() {
        return state().resolve("spool");
    }

    Path auditLog() {
        return state().resolve("audit.jsonl");
    }

    /** Root's SSH client key and the known_hosts file of both archive hosts. */
    Path keys() {
        return dir.resolve("keys");
    }

    /** The copy of the client key that postgres (running wal-fetch) may read. */
    Path postgresKeys() {
        return state().resolve("ssh");
    }

    Path host(String name) {
        return dir.resolve("hosts").resolve(name);
    }

    Path primaryHome() {
        return dir.resolve("primary");
    }

    Path standbyHome() {
        return dir.resolve("standby");
    }

    /** The standby's PGDATA, on the first dataset. */
    Path standbyData() {
        return mnt().resolve("pg/data/pgdata");
    }

    /** The standby's tablespace, on the second dataset. */
    Path standbyTablespace() {
        return mnt().resolve("pg/tblspc1/ts");
    }

    /** The launcher and jar copied here when postgres cannot reach the ones the demo runs from. */
    Path app() {
        return dir.resolve("app");
    }
}

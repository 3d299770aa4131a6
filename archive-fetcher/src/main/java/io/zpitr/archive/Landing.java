// How a fetched file is put in place: durably or not, and for which owner.
package io.zpitr.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.util.Optional;

/**
 * The two things about landing a verified file that differ between destinations. PostgreSQL's
 * {@code %p} and a standby's spool are durable: fsync of the file and of its folder, as PostgreSQL
 * installs WAL. A restore clone's spool is not worth an fsync: the clone is disposable until the
 * restore has reported success, and a crash before then restarts the restore from the snapshot.
 * A file fetched by root for a server run as another user is given to that user before the rename,
 * so that no moment exists in which the server sees a file it cannot read.
 *
 * @param durable whether to fsync the file and its folder
 * @param owner   who the landed file belongs to, when not the fetching process's user
 * @param group   its group, with {@code owner}
 */
public record Landing(boolean durable, Optional<UserPrincipal> owner, Optional<GroupPrincipal> group) {
    /** fsync'd, owned by whoever fetched it: the default, for %p and a standby's spool. */
    public static final Landing DURABLE = new Landing(true, Optional.empty(), Optional.empty());
    /** Not fsync'd: for files a crash may lose (metrics, a pid), rewritten soon anyway. */
    public static final Landing QUICK = new Landing(false, Optional.empty(), Optional.empty());

    public Landing {
        owner = owner == null ? Optional.empty() : owner;
        group = group == null ? Optional.empty() : group;
    }

    /** Gives {@code file} to this landing's owner and group, where it names them. */
    public void giveTo(Path file) throws IOException {
        if (owner.isPresent()) {
            Files.setOwner(file, owner.get());
        }
        if (group.isPresent()) {
            Files.getFileAttributeView(file, PosixFileAttributeView.class).setGroup(group.get());
        }
    }
}

// The OS user PostgreSQL runs as: whether we are root, running a program as that user, giving it files.
package io.zpitr.appliance.postgres;

import io.zpitr.archive.Landing;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One way, for restore, standby init and the prefetcher alike, to act as {@code postgres.os_user}:
 * PostgreSQL refuses root, so root runs its programs through {@code runuser} and hands it the
 * files they need.
 */
public final class OsUser {
    private OsUser() {}

    /** Whether this process runs as root: the kernel's uid of this process, not the user.name property. */
    public static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** Whether {@code user} is someone else than this process: then its files must be given to it. */
    public static boolean isOther(String user) {
        return !user.equals(System.getProperty("user.name")) && !(isRoot() && "root".equals(user));
    }

    /** {@code argv} run as {@code user}: through {@code runuser} when we are root and it is someone else. */
    public static List<String> command(String user, List<String> argv) {
        List<String> all = new ArrayList<>();
        if (isRoot() && !"root".equals(user)) {
            all.addAll(List.of("runuser", "-u", user, "--"));
        }
        all.addAll(argv);
        return all;
    }

    /** How a file zpitr writes for {@code user} lands: owned by it (and its group), fsync'd when {@code durable}. */
    public static Landing landing(String user, boolean durable) throws IOException {
        UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
        Optional<GroupPrincipal> group;
        try {
            group = Optional.of(lookup.lookupPrincipalByGroupName(user));
        } catch (UserPrincipalNotFoundException e) {
            group = Optional.empty();
        }
        return new Landing(durable, Optional.of(lookup.lookupPrincipalByName(user)), group);
    }

    /** {@code chown USER: PATH...}: owner USER, group USER's own (as Debian makes it for system users). */
    public static void giveTo(String user, Path... paths) throws IOException {
        UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
        UserPrincipal owner = lookup.lookupPrincipalByName(user);
        GroupPrincipal group;
        try {
            group = lookup.lookupPrincipalByGroupName(user);
        } catch (UserPrincipalNotFoundException e) {
            group = null; // no group of that name: leave the group as it is
        }
        for (Path p : paths) {
            PosixFileAttributeView view =
                    Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            view.setOwner(owner);
            if (group != null) {
                view.setGroup(group);
            }
        }
    }
}

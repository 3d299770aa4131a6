// Gives files to the OS user PostgreSQL runs as (restore, standby init), without a process per chown.
package io.zpitr.appliance.postgres;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;

/** {@code chown USER: PATH...}: owner USER, group USER's own (as Debian makes it for system users). */
public final class OsUser {
    private OsUser() {
    }

    public static void giveTo(String user, Path... paths) throws IOException {
        UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
        UserPrincipal owner = lookup.lookupPrincipalByName(user);
        GroupPrincipal group;
        try {
            group = lookup.lookupPrincipalByGroupName(user);
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            group = null;  // no group of that name: leave the group as it is
        }
        for (Path p : paths) {
            PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            view.setOwner(owner);
            if (group != null) {
                view.setGroup(group);
            }
        }
    }
}

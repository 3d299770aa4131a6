// Where bin/zpitr looks for a configuration's prefetch spool, computed the same way in bash and Java.
package io.zpitr.appliance.wal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The launcher's fast path runs in bash and must find the spool without parsing YAML. The Java
 * side publishes a symbolic link {@code /tmp/zpitr-<uid>/spool<config path with '/' as '%'>}; the
 * launcher computes the same name from {@code $UID} and the configuration path with a parameter
 * expansion, and trusts the folder only if it owns it ({@code [[ -O ]]}).
 */
final class LauncherSpoolLink {
    private LauncherSpoolLink() {}

    static Path folder() throws IOException {
        return Path.of("/tmp", "zpitr-" + uid());
    }

    static String name(Path configFile) {
        return "spool" + configFile.toString().replace('/', '%');
    }

    static boolean ownedByUs(Path folder) throws IOException {
        return ((Integer) Files.getAttribute(folder, "unix:uid", LinkOption.NOFOLLOW_LINKS)) == uid();
    }

    /** The effective uid: /proc/self belongs to it. */
    static int uid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }
}

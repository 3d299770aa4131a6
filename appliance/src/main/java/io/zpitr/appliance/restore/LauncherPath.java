// Finds the bin/zpitr that a restored instance's restore_command runs.
package io.zpitr.appliance.restore;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code ZPITR_LAUNCHER}, else the {@code bin/zpitr} in a folder above this jar (the source tree, or /usr/share/zpitr). */
public final class LauncherPath {
    private LauncherPath() {}

    /** @throws io.zpitr.appliance.error.ZpitrException SETUP_INVALID, with a hint, when there is none */
    public static Path find() {
        String env = System.getenv("ZPITR_LAUNCHER");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        try {
            Path here = Path.of(LauncherPath.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            for (Path p = here; p != null; p = p.getParent()) {
                if (Files.isExecutable(p.resolve("bin/zpitr"))) {
                    return p.resolve("bin/zpitr");
                }
            }
        } catch (java.net.URISyntaxException | SecurityException e) {
            // fall through
        }
        throw io.zpitr.appliance.error.ZpitrError.SETUP_INVALID.exception(
                "cannot find bin/zpitr for the restored instance's restore_command"
                        + "\nHINT: set ZPITR_LAUNCHER to the zpitr launcher's path");
    }
}

// The configuration read while picocli builds its model: one JVM start does both at once.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.restore.MajorCheck;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.Zfs;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The config file a command line names, read and validated on a thread of its own from the moment
 * the command line is seen, and for a restore or a drill the ZFS driver detected (its probe
 * under way beside the reading when the config names no {@code zfs.command}) and the major
 * check's {@code postgres --version} run too. Picocli builds
 * a command's model by reflection (~0.1 s of a JVM start) and reading the config with its YAML
 * parser takes as long; side by side they overlap (measured: docs/restore-guide.md).
 *
 * <p>Nothing changes for the user: {@link Main#settings()} takes this reading only when it is of
 * the file picocli's parse locates too, and a config that does not load fails there, with the same
 * exception, as when read in line. A command that never reads its config ({@code --help}) leaves the
 * reading unwaited for on a daemon thread.
 */
final class EarlyConfig {
    /** The commands whose ZFS driver is detected early: those waited for as a restore is made. */
    private static final List<Class<?>> WITH_ZFS = List.of(RestoreCommand.class, DrillCommand.class);
    /** The ZFS command of a config that names none ({@code zfs.command}), probed before the config is read. */
    private static final String DEFAULT_ZFS = "zfs";

    private final Path file;
    private final CompletableFuture<Settings> settings = new CompletableFuture<>();
    private final CompletableFuture<Zfs> zfs = new CompletableFuture<>();

    private EarlyConfig(Path file) {
        this.file = file;
    }

    /** As {@link #start(Main.Named, Map)} for the command line {@code args}. */
    static Optional<EarlyConfig> start(String[] args, Map<String, String> env) {
        return start(Main.named(args), env);
    }

    /**
     * Starts reading the config a command line names ({@code --config}, else as
     * {@link ConfigLoader#locate} finds it); empty when it names no subcommand (none, {@code help},
     * or one that does not exist), or names {@code demo} (which makes its own).
     */
    static Optional<EarlyConfig> start(Main.Named named, Map<String, String> env) {
        Optional<Class<?>> command = named.command();
        if (command.isEmpty() || command.get() == DemoCommand.class) {
            return Optional.empty();
        }
        EarlyConfig early = new EarlyConfig(ConfigLoader.locate(named.config().orElse(null), env));
        boolean withZfs = WITH_ZFS.contains(command.get());
        // The usual config names no zfs.command: its `zfs version` probe (~0.07 s beside a JVM
        // start) runs while the config is read (~0.2 s in a JVM this new), not after it.
        Optional<CompletableFuture<Zfs>> probe = withZfs
                ? Optional.of(CompletableFuture.supplyAsync(
                        () -> Zfs.detect(new ProcessRunner(), DEFAULT_ZFS), task -> daemon(task, "early-zfs")))
                : Optional.empty();
        daemon(() -> early.read(probe), "early-config");
        return Optional.of(early);
    }

    private static void daemon(Runnable task, String name) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
    }

    /** Reads the config; with {@code probe} (a restore or a drill) detects its ZFS driver too. */
    private void read(Optional<CompletableFuture<Zfs>> probe) {
        Settings s;
        try {
            s = ConfigLoader.load(file);
            settings.complete(s);
        } catch (RuntimeException e) {
            settings.completeExceptionally(e);
            zfs.completeExceptionally(e);
            return;
        }
        if (probe.isEmpty()) {
            zfs.cancel(false);
            return;
        }
        // The major check's postgres --version (~0.03 s alone, 0.1-0.2 s beside a JVM start on
        // two cores), which the plan waits for: under way before the command runs.
        Thread version = new Thread(() -> MajorCheck.warm(s, new ProcessRunner()), "early-major-check");
        version.setDaemon(true);
        version.start();
        try {
            Optional<Zfs> probed = s.zfsCommand().equals(DEFAULT_ZFS) ? succeeded(probe.get()) : Optional.empty();
            zfs.complete(probed.orElseGet(() -> Zfs.detect(new ProcessRunner(), s.zfsCommand())));
        } catch (RuntimeException e) {
            zfs.completeExceptionally(e);
        }
    }

    /** What {@code f} gave, or empty when it failed or was cancelled. */
    private static <T> Optional<T> succeeded(CompletableFuture<T> f) {
        try {
            return Optional.of(joined(f));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** This reading, if it is of {@code located}: the settings, or the exception the reading threw. */
    Optional<Settings> settingsOf(Path located) {
        return located.equals(file) ? Optional.of(joined(settings)) : Optional.empty();
    }

    /** The ZFS driver detected early for {@code located}'s config, or empty (not asked, or it failed). */
    Optional<Zfs> zfsOf(Path located) {
        // Not asked (cancelled) or failed: detected again in line, which reports what went wrong.
        return located.equals(file) ? succeeded(zfs) : Optional.empty();
    }

    private static <T> T joined(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the config", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }
}

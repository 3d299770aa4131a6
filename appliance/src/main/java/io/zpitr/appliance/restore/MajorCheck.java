// Refuses a restore whose postgres.bin_dir holds another PostgreSQL major than the snapshot set was taken on.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessException;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server starts only on a data directory of its own major ("database files are incompatible
 * with server"), so a snapshot taken on one major cannot be restored with another's binaries, as
 * after {@code postgres.bin_dir} was changed for an upgrade while older snapshots are still kept.
 * Checked before anything is cloned: the set's recorded {@code zpitr:pg_version} against what
 * {@code postgres --version} of {@code postgres.bin_dir} prints. A set without a recorded version
 * (not taken by {@code zpitr snapshot}) is not checked here; the server itself then refuses it.
 */
public final class MajorCheck {
    /** Where {@code postgres.bin_dir} points when it is not configured (config/zpitr.example.yaml). */
    /** {@code postgres (PostgreSQL) 16.4}, {@code postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)}, {@code ... 18beta1}. */
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private MajorCheck() {}

    /**
     * Passes when {@code set} was taken on the major of the configured binaries, or its major is unknown.
     *
     * @throws io.zpitr.appliance.error.ZpitrException (exit 2) when the majors differ, or {@code postgres.bin_dir} has no
     *                         runnable {@code postgres}
     */
    public static void requireSameMajor(Settings settings, ProcessRunner runner, SnapshotSet set) {
        if (set.pgVersion() <= 0) {
            return;
        }
        Path binDir = binDir(settings);
        String printed = versionOf(runner, binDir);
        OptionalInt binMajor = majorOfVersionText(printed);
        if (binMajor.isEmpty()) {
            throw new ConfigException(
                    "cannot tell the PostgreSQL major of " + binDir.resolve("postgres") + ": --version printed '"
                            + printed + "'\nHINT: point postgres.bin_dir at a PostgreSQL installation's bin folder");
        }
        int setMajor = majorOfVersionNum(set.pgVersion());
        if (setMajor != binMajor.getAsInt()) {
            throw ZpitrError.MAJOR_MISMATCH.exception(
                    "snapshot set " + set.id() + " was taken on PostgreSQL " + display(setMajor)
                            + " (server_version_num " + set.pgVersion() + "), but postgres.bin_dir " + binDir
                            + " holds PostgreSQL "
                            + display(binMajor.getAsInt()) + " ('" + printed
                            + "'): a server starts only on a data directory of its own"
                            + " major; nothing was cloned\nHINT: restore with PostgreSQL " + display(setMajor)
                            + "'s binaries: a config"
                            + " whose postgres.bin_dir names them (e.g. /usr/lib/postgresql/" + display(setMajor)
                            + "/bin), with --config");
        }
    }

    /** The major in {@code server_version_num} form: 160004 is 16; 90624 is 906 (9.6), as before 10. */
    static int majorOfVersionNum(int versionNum) {
        return versionNum >= 100000 ? versionNum / 10000 : versionNum / 100;
    }

    /** The major in {@code postgres --version}'s text, in {@link #majorOfVersionNum}'s form. */
    static OptionalInt majorOfVersionText(String text) {
        Matcher m = VERSION.matcher(text);
        if (!m.find()) {
            return OptionalInt.empty();
        }
        int first = Integer.parseInt(m.group(1));
        if (first >= 10) {
            return OptionalInt.of(first);
        }
        return m.group(2) == null ? OptionalInt.empty() : OptionalInt.of(first * 100 + Integer.parseInt(m.group(2)));
    }

    private static String display(int major) {
        return major >= 100 ? major / 100 + "." + major % 100 : Integer.toString(major);
    }

    private static Path binDir(Settings settings) {
        return settings.postgres().binDir();
    }

    /**
     * Runs {@code postgres --version} of {@code postgres.bin_dir} now, for {@link #requireSameMajor}
     * to find later in this process (a restore starts it as soon as its config is read, beside the
     * parse of its command line); failures are left for that call.
     */
    public static void warm(Settings settings, ProcessRunner runner) {
        try {
            versionOf(runner, binDir(settings));
        } catch (RuntimeException e) {
            // requireSameMajor runs it again and reports what went wrong.
        }
    }

    /**
     * What each bin_dir's postgres printed, in this process: it does not change while a command
     * runs. A caller that finds the run under way waits for it rather than running it again; a
     * failed run is forgotten, so the next caller runs it again and reports its failure.
     */
    private static final Map<Path, CompletableFuture<String>> PRINTED = new ConcurrentHashMap<>();

    private static String versionOf(ProcessRunner runner, Path binDir) {
        CompletableFuture<String> mine = new CompletableFuture<>();
        CompletableFuture<String> running = PRINTED.putIfAbsent(binDir, mine);
        if (running == null) {
            try {
                mine.complete(runVersion(runner, binDir));
            } catch (RuntimeException e) {
                PRINTED.remove(binDir, mine);
                mine.completeExceptionally(e);
                throw e;
            }
            return mine.join();
        }
        try {
            return running.join();
        } catch (CompletionException e) {
            // The run under way failed: run it here, to report its failure as this caller's.
            PRINTED.remove(binDir, running);
            return versionOf(runner, binDir);
        }
    }

    private static String runVersion(ProcessRunner runner, Path binDir) {
        Path postgres = binDir.resolve("postgres");
        try {
            // --version answers before the server's refusal to run as root; LC_ALL=C keeps it in English.
            ProcessResult r = runner.run(Command.of(postgres.toString(), "--version")
                    .timeout(TIMEOUT)
                    .environment(Map.of("LC_ALL", "C", "PATH", "/usr/bin:/bin")));
            if (r.succeeded()) {
                return r.stdout().strip();
            }
            throw new ConfigException(postgres + " --version failed (exit " + r.exitCode() + "): "
                    + r.stderr().strip() + "\nHINT: check postgres.bin_dir");
        } catch (ProcessException e) {
            throw new ConfigException(
                    "cannot run " + postgres + ": " + e.getMessage() + "\nHINT: check postgres.bin_dir", e);
        }
    }
}

package io.zpitr.appliance.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.postgres.PgState;
import io.zpitr.appliance.snapshot.SnapshotService;
import io.zpitr.fixtures.SshServer;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.Zfs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (CI never runs it; {@code bench/replicate.sh} does): {@code zpitr
 * replicate} of a set of {@code bench.size.mb} (default 1024 MB of random bytes in a file, so
 * nothing compresses) and of an incremental set of {@code bench.increment.mb} (default 8 MB) from
 * one zfs-fuse pool to another over a real sshd on a loopback address, against the floor: the same
 * two streams sent by hand, {@code zfs send [-i FROM] SNAP | ssh ... zfs receive LANDING}, the two
 * processes joined by a kernel pipe ({@link ProcessBuilder#startPipeline}) and ssh given the options
 * zpitr gives it (without zpitr's shared connection: one ssh per stream, as a person would run it).
 * Both in one run, alternating which goes first, {@code bench.rounds} rounds (default 3), medians;
 * each run starts from an empty landing and its landing is destroyed afterwards.
 *
 * <p>zpitr's figures: the time of each set as zpitr prints it ("complete (full, N bytes in M ms)":
 * the stream, the receive and the properties and cursor of that set), and the whole command as an
 * operator runs it (bin/zpitr: JVM start, the target's listing and plan, both sets).
 */
class ReplicateBench {
    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final Pattern COMPLETE =
            Pattern.compile("complete \\((full|incremental from \\S+), (\\d+) bytes in (\\d+) ms\\)");

    final ProcessRunner runner = new ProcessRunner();
    Path results;

    /** One way's round: seconds of the full stream, of the incremental, and of the whole command. */
    record Run(String way, int round, double full, double incremental, double whole, long fullBytes, long incBytes) {}

    @Test
    void replicateAgainstTheByHandPipeline() throws Exception {
        int rounds = Integer.getInteger("bench.rounds", 3);
        long sizeMb = Long.getLong("bench.size.mb", 1024);
        long incrementMb = Long.getLong("bench.increment.mb", 8);
        String resultsFile = System.getProperty("bench.results", "");
        results = resultsFile.isBlank() ? null : Path.of(resultsFile);
        say("zpitr replicate against zfs send | ssh zfs receive by hand, " + Instant.now() + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs, load " + loadAverage()
                + "; zfs-fuse both sides");
        long poolBytes = (sizeMb + incrementMb + 512) << 20;
        Path dir = Files.createTempDirectory("zpitr-repl-bench");
        try (SshServer host = SshServer.builder().build().start();
                ZfsPool source = ZfsPool.ofSize(poolBytes);
                ZfsPool target = ZfsPool.ofSize(poolBytes)) {
            source.start();
            target.start();
            DatasetName data = DatasetName.of(source.name() + "/pg/data");
            source.zfs("create", source.name() + "/pg");
            source.zfs("create", data.full());
            target.zfs("create", "-p", target.name() + "/zr");
            target.zfs("create", "-p", target.name() + "/hand/pg");
            Path config = dir.resolve("zpitr.yaml");
            Files.writeString(
                    config,
                    "state_dir: " + dir.resolve("state") + "\n"
                            + "zfs:\n  datasets: [" + data + "]\n"
                            + "replication:\n  targets:\n    - name: dr1\n      type: ssh\n      host: "
                            + host.address() + "\n      port: " + host.port() + "\n      user: " + host.user()
                            + "\n      identity_file: " + host.identityFile() + "\n      known_hosts: "
                            + host.knownHostsFile() + "\n      dataset_root: " + target.name() + "/zr\n");
            ReplicationTarget dr1 =
                    ConfigLoader.load(config).replication().select("dr1").get(0);
            SnapshotService sets = new SnapshotService(
                    Zfs.detect(runner, "zfs"), List.of(data), "zpitr", dir.resolve("state"), Clock.systemUTC());

            long t = System.nanoTime();
            writeRandom(source.mountpoint().resolve("pg/data/big.bin"), sizeMb, 1);
            String full = sets.take("full", null, () -> state(1), "bench").id();
            say(String.format(
                    Locale.ROOT, "wrote %d MB of random bytes and took set %s: %.1f s", sizeMb, full, since(t)));
            writeRandom(source.mountpoint().resolve("pg/data/more.bin"), incrementMb, 2);
            String inc = sets.take("inc", null, () -> state(2), "bench").id();
            say("wrote " + incrementMb + " MB more and took set " + inc);
            long fullStream =
                    streamBytes(List.of("zfs", "send", data.snapshot(full).full()));
            long incStream = streamBytes(List.of(
                    "zfs",
                    "send",
                    "-i",
                    data.snapshot(full).full(),
                    data.snapshot(inc).full()));
            say("streams: full " + fullStream + " bytes, incremental " + incStream + " bytes (zfs send | counted)");

            List<Run> runs = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                List<String> order = new ArrayList<>(List.of("zpitr", "by hand"));
                java.util.Collections.rotate(order, round - 1);
                for (String way : order) {
                    String load = loadAverage();
                    Run r = way.equals("zpitr")
                            ? zpitr(config, round)
                            : byHand(dr1, data, full, inc, target.name() + "/hand/pg/data", round);
                    destroy(target, way.equals("zpitr") ? target.name() + "/zr/pg" : target.name() + "/hand/pg/data");
                    runs.add(r);
                    say(String.format(
                            Locale.ROOT,
                            "  round %d %-8s full %7.2f s (%5.1f MB/s)   incremental %6.2f s   whole %7.2f s   load %s",
                            round,
                            way,
                            r.full(),
                            fullStream / 1048576.0 / r.full(),
                            r.incremental(),
                            r.whole(),
                            load));
                    if (way.equals("zpitr")) {
                        assertEquals(fullStream, r.fullBytes(), "zpitr counted the same full stream");
                        assertEquals(incStream, r.incBytes(), "zpitr counted the same incremental stream");
                    }
                }
            }
            say("summary (medians of " + rounds + " rounds; ratio = zpitr / by hand (below 1 = zpitr faster))");
            line("full set", fullStream, runs, Run::full);
            line("incremental set", incStream, runs, Run::incremental);
            line("whole run (both sets)", fullStream + incStream, runs, Run::whole);
            say("finished " + Instant.now() + ", load " + loadAverage());
        } finally {
            runner.run(Command.of("rm", "-rf", dir.toString()));
        }
    }

    private void line(String what, long bytes, List<Run> runs, java.util.function.ToDoubleFunction<Run> f) {
        double z = median(runs.stream()
                .filter(r -> r.way().equals("zpitr"))
                .mapToDouble(f)
                .toArray());
        double h = median(runs.stream()
                .filter(r -> r.way().equals("by hand"))
                .mapToDouble(f)
                .toArray());
        say(String.format(
                Locale.ROOT,
                "  %-22s %12d bytes   zpitr %7.2f s   by hand %7.2f s   zpitr / by hand %.2f",
                what,
                bytes,
                z,
                h,
                z / h));
    }

    /** {@code bin/zpitr replicate}: both sets, each one's time as zpitr prints it. */
    private Run zpitr(Path config, int round) {
        long t = System.nanoTime();
        ProcessResult r = runner.run(Command.of(LAUNCHER.toString(), "--config", config.toString(), "replicate")
                .timeout(Duration.ofMinutes(30)));
        double whole = since(t);
        if (r.exitCode() != 0) {
            throw new AssertionError("zpitr replicate: exit " + r.exitCode() + "\n" + r.stdout() + r.stderr());
        }
        Matcher m = COMPLETE.matcher(r.stdout());
        List<double[]> sets = new ArrayList<>();
        while (m.find()) {
            sets.add(new double[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3)) / 1000.0});
        }
        if (sets.size() != 2) {
            throw new AssertionError("expected two sets sent:\n" + r.stdout());
        }
        return new Run(
                "zpitr", round, sets.get(0)[1], sets.get(1)[1], whole, (long) sets.get(0)[0], (long) sets.get(1)[0]);
    }

    /** The two streams by hand, each {@code zfs send | ssh ... zfs receive} through a kernel pipe. */
    private Run byHand(ReplicationTarget dr1, DatasetName data, String full, String inc, String landing, int round)
            throws Exception {
        SshZfsLauncher ssh = new SshZfsLauncher(dr1, runner, null);
        double f = pipeline(
                List.of("zfs", "send", data.snapshot(full).full()), ssh.argv(List.of("zfs", "receive", landing)));
        double i = pipeline(
                List.of(
                        "zfs",
                        "send",
                        "-i",
                        data.snapshot(full).full(),
                        data.snapshot(inc).full()),
                ssh.argv(List.of("zfs", "receive", landing)));
        return new Run("by hand", round, f, i, f + i, -1, -1);
    }

    private static double pipeline(List<String> send, List<String> receive) throws Exception {
        long t = System.nanoTime();
        List<Process> ps = ProcessBuilder.startPipeline(List.of(
                new ProcessBuilder(send).redirectError(ProcessBuilder.Redirect.INHERIT),
                new ProcessBuilder(receive)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.INHERIT)));
        for (Process p : ps) {
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                ps.forEach(Process::destroyForcibly);
                throw new AssertionError("pipeline still running after 30 minutes: " + send + " | " + receive);
            }
            if (p.exitValue() != 0) {
                throw new AssertionError(
                        "exit " + p.exitValue() + ": " + p.info().commandLine().orElse("?"));
            }
        }
        return since(t);
    }

    /** The bytes of a send stream, read and counted (not timed). */
    private static long streamBytes(List<String> send) throws Exception {
        Process p = new ProcessBuilder(send)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        long n = 0;
        byte[] buf = new byte[1 << 20];
        try (InputStream in = p.getInputStream()) {
            for (int r; (r = in.read(buf)) > 0; ) {
                n += r;
            }
        }
        if (p.waitFor() != 0) {
            throw new AssertionError("exit " + p.exitValue() + ": " + send);
        }
        return n;
    }

    /** Destroys a landing; zfs-fuse says "dataset is busy" for about a second after a receive mounted it. */
    private static void destroy(ZfsPool pool, String name) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                pool.zfs("destroy", "-r", name);
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    private static void writeRandom(Path file, long mb, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] buf = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long i = 0; i < mb; i++) {
                for (int j = 0; j < buf.length; j += 8) {
                    long v = random.nextLong();
                    for (int k = 0; k < 8; k++) {
                        buf[j + k] = (byte) (v >>> (8 * k));
                    }
                }
                out.write(buf);
            }
        }
    }

    /** A made-up PostgreSQL position: the bench needs no server, only sets as zpitr snapshot records them. */
    private static PgState state(int n) {
        long lsn = 0x3000000L * n;
        return new PgState(
                "standby",
                1,
                new Lsn(lsn),
                new Lsn(lsn + 0x28),
                new Lsn(lsn + 0x100),
                OffsetDateTime.parse("2026-12-01T04:0" + n + ":00Z"),
                "7312345678901234567",
                150010,
                700 + n);
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double since(long nanos) {
        return (System.nanoTime() - nanos) / 1e9;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private synchronized void say(String line) {
        System.out.println(line);
        if (results != null) {
            try {
                Files.writeString(results, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}

package io.zpitr.archive;

import io.zpitr.archive.SshHostConfig.Transport;
import io.zpitr.fixtures.SshServer;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Not a test (the name matches no surefire pattern): how fast JSch SFTP moves 16 MiB files from one
 * sshd on loopback, and how much CPU each end burns per GiB: this JVM (and of that, its JIT
 * compiler threads), the sshd sessions, and the whole machine. Run it by hand, one JVM per choice:
 * {@code mvn -pl archive-fetcher -am test -Dtest=SftpThroughputExperiment -Dsurefire.failIfNoSpecifiedTests=false
 * -Dworkers=1 -Dzpitr.ssh.ciphers=aes128-ctr -Dzpitr.ssh.macs=hmac-sha2-256-etm@openssh.com}
 * (the properties {@link SshSessions} reads; unset: the defaults zpitr negotiates).
 */
class SftpThroughputExperiment {
    /** Busy jiffies of the whole machine (user nice system irq softirq), from /proc/stat. */
    private static long machineBusy() throws java.io.IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (int i : new int[] {1, 2, 3, 6, 7}) {
            busy += Long.parseLong(f[i]);
        }
        return busy;
    }

    /** CPU jiffies of the sshd listener's reaped children: the sessions that have ended. */
    private static long sshdSessions(SshServer host) throws java.io.IOException {
        String pid =
                Files.readString(host.hostKeyFile().resolveSibling("sshd.pid")).strip();
        String stat = Files.readString(Path.of("/proc", pid, "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }

    private static long jvmCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** The JIT compiler threads' CPU, in milliseconds. */
    private static long compileMillis() {
        return Math.round(JvmCpu.compilerSeconds().orElse(Double.NaN) * 1000);
    }

    @Test
    void measure() throws Exception {
        int n = Integer.getInteger("n", 32);
        int workers = Integer.getInteger("workers", 4);
        int rounds = Integer.getInteger("rounds", 3);
        try (SshServer host = SshServer.builder().build().start()) {
            for (int i = 0; i < n; i++) {
                SshTestHosts.writeRandom(
                        host.dataDir().resolve(String.format("00000001000000000000%04X", i)),
                        SshTestHosts.SEGMENT_SIZE,
                        i);
            }
            Path out = Files.createTempDirectory(Path.of("/var/tmp"), "tp");
            try {
                rounds(host, out, n, workers, rounds);
            } finally {
                // Up to n x 16 MiB: not left behind in /var/tmp.
                try (java.util.stream.Stream<Path> all = Files.walk(out)) {
                    all.sorted(java.util.Comparator.reverseOrder())
                            .forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private static void rounds(SshServer host, Path out, int n, int workers, int rounds) throws Exception {
        {
            // sshd offers every cipher and MAC JSch knows: the first of each list is what is negotiated.
            String negotiated = "cipher " + SshSessions.CIPHERS.split(",")[0] + " mac "
                    + (SshSessions.MACS.isEmpty()
                            ? "JSch's first"
                            : SshSessions.MACS.split(",")[0]);
            for (int round = 0; round < rounds; round++) {
                ExecutorService pool = Executors.newFixedThreadPool(workers);
                List<SshSource> sources = new ArrayList<>();
                for (int w = 0; w < workers; w++) {
                    sources.add(new SshSource(
                            SshTestHosts.config(host, Transport.SFTP),
                            new HostReachability(
                                    out.resolve("state"),
                                    java.time.Duration.ofSeconds(60),
                                    java.time.Clock.systemUTC()),
                            new ProcessRunner()));
                }
                java.util.concurrent.BlockingQueue<SshSource> q =
                        new java.util.concurrent.LinkedBlockingQueue<>(sources);
                long machine0 = machineBusy();
                long sshd0 = sshdSessions(host);
                long jvm0 = jvmCpuNanos();
                long jit0 = compileMillis();
                long t0 = System.nanoTime();
                List<Future<Long>> fs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    WalFileName name = WalFileName.of(String.format("00000001000000000000%04X", i));
                    fs.add(pool.submit(() -> {
                        SshSource s = q.take();
                        try {
                            long a = System.nanoTime();
                            List<WalCopy> c = s.find(name);
                            Path t = out.resolve(name.name());
                            s.download(c.get(0), t);
                            return (System.nanoTime() - a) / 1_000_000;
                        } finally {
                            q.add(s);
                        }
                    }));
                }
                List<Long> each = new ArrayList<>();
                for (Future<Long> f : fs) {
                    each.add(f.get());
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                double jvm = (jvmCpuNanos() - jvm0) / 1e9;
                double jit = (compileMillis() - jit0) / 1e3;
                pool.shutdown();
                sources.forEach(SshSource::close);
                // Let sshd reap the sessions just closed.
                long deadline = System.nanoTime() + 2_000_000_000L;
                long sshd = sshdSessions(host) - sshd0;
                while (System.nanoTime() < deadline) {
                    Thread.sleep(100);
                    long now = sshdSessions(host) - sshd0;
                    if (now == sshd && now > 0) {
                        break;
                    }
                    sshd = now;
                }
                double machine = (machineBusy() - machine0) / 100.0;
                double gib = n * 16.0 / 1024;
                System.out.printf(
                        java.util.Locale.ROOT,
                        "RESULT %s workers %d round %d: %d x 16 MiB in %.2f s = %.0f MB/s; CPU per GiB:"
                                + " JVM %.2f s (JIT %.2f s), sshd %.2f s, machine %.2f s; load %s; per file ms %s%n",
                        negotiated,
                        workers,
                        round,
                        n,
                        secs,
                        n * 16.777216 / secs,
                        jvm / gib,
                        jit / gib,
                        sshd / 100.0 / gib,
                        machine / gib,
                        Files.readString(Path.of("/proc/loadavg")).split(" ")[0],
                        each);
            }
        }
    }
}

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
 * sshd on loopback, and how much CPU both ends burn per file. Run it by hand:
 * {@code mvn -pl archive-fetcher -am test -Dtest=SftpThroughputExperiment -Dsurefire.failIfNoSpecifiedTests=false
 * -Dworkers=2 -Dcipher=aes128-ctr}
 */
class SftpThroughputExperiment {
    /** Busy and total jiffies of the whole machine, from /proc/stat. */
    private static long[] cpu() throws java.io.IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < f.length; i++) {
            total += Long.parseLong(f[i]);
        }
        long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
        return new long[] {total - idle, total};
    }

    @Test
    void measure() throws Exception {
        int n = Integer.getInteger("n", 32);
        int workers = Integer.getInteger("workers", 4);
        String cipher = System.getProperty("cipher", "");
        if (!cipher.isEmpty()) {
            com.jcraft.jsch.JSch.setConfig("cipher.s2c", cipher);
            com.jcraft.jsch.JSch.setConfig("cipher.c2s", cipher);
        }
        System.out.println("cipher " + com.jcraft.jsch.JSch.getConfig("cipher.s2c") + " mac " + com.jcraft.jsch.JSch.getConfig("mac.s2c"));
        try (SshServer host = SshServer.builder().build().start()) {
            for (int i = 0; i < n; i++) {
                SshTestHosts.writeRandom(host.dataDir().resolve(String.format("00000001000000000000%04X", i)), SshTestHosts.SEGMENT_SIZE, i);
            }
            Path out = Files.createTempDirectory(Path.of("/var/tmp"), "tp");
            for (int round = 0; round < 3; round++) {
                ExecutorService pool = Executors.newFixedThreadPool(workers);
                List<SshSource> sources = new ArrayList<>();
                for (int w = 0; w < workers; w++) {
                    sources.add(new SshSource(SshTestHosts.config(host, Transport.SFTP), new HostReachability(out.resolve("state"), java.time.Duration.ofSeconds(60), java.time.Clock.systemUTC()), new ProcessRunner()));
                }
                java.util.concurrent.BlockingQueue<SshSource> q = new java.util.concurrent.LinkedBlockingQueue<>(sources);
                long[] cpu0 = cpu();
                long t0 = System.nanoTime();
                List<Future<Long>> fs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    WalFileName name = WalFileName.of(String.format("00000001000000000000%04X", i));
                    fs.add(pool.submit(() -> {
                        SshSource s = q.take();
                        try {
                            long a = System.nanoTime();
                            List<WalCopy> c = s.find(name);
                            long found = System.nanoTime();
                            Path t = out.resolve(name.name());
                            s.download(c.get(0), t);
                            if (name.name().endsWith("0000")) {
                                System.out.printf("first file: find (connect, list) %d ms, download %d ms%n",
                                        (found - a) / 1_000_000, (System.nanoTime() - found) / 1_000_000);
                            }
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
                long[] cpu1 = cpu();
                double busy = (cpu1[0] - cpu0[0]) / 100.0;
                System.out.printf("round %d: %d x 16 MiB with %d workers in %.2f s = %.0f MB/s; machine CPU busy %.2f s "
                        + "(%.0f ms per segment, both ends of SSH); per file ms %s%n", round, n, workers, secs,
                        n * 16.777216 / secs, busy, busy * 1000 / n, each);
                pool.shutdown();
                sources.forEach(SshSource::close);
            }
        }
    }
}

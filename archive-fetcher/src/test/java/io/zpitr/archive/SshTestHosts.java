// Shared pieces of the SSH source tests: a config for a fixture server, random segment bytes, a clock the test moves.
package io.zpitr.archive;

import io.zpitr.archive.SshHostConfig.Transport;
import io.zpitr.fixtures.SshServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;

/** Helpers for tests against real sshd instances on loopback ({@link SshServer}). */
final class SshTestHosts {
    /** A WAL segment is 16 MB by default; the fetch tests move real-sized files. */
    static final int SEGMENT_SIZE = 16 * 1024 * 1024;

    private SshTestHosts() {}

    /** A source for {@code server}'s data dir, verified against its own known_hosts. */
    static SshHostConfig config(SshServer server, Transport... transports) {
        return config(server, server.knownHostsFile(), transports);
    }

    static SshHostConfig config(SshServer server, Path knownHosts, Transport... transports) {
        return new SshHostConfig(
                "arch-" + server.address(),
                server.address(),
                server.port(),
                server.user(),
                server.dataDir().toString(),
                server.identityFile(),
                knownHosts,
                List.of(transports),
                Duration.ofSeconds(2));
    }

    /** Writes {@code size} random bytes (seeded: reproducible) to {@code file}, creating folders; returns them. */
    static byte[] writeRandom(Path file, int size, long seed) throws IOException {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        return bytes;
    }

    /** A clock that stands still until the test moves it. */
    static final class ManualClock extends Clock {
        private volatile Instant now;

        ManualClock(Instant start) {
            this.now = start;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException("tests use UTC");
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}

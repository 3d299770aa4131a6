// Proves strict host key checking against real sshd instances: unknown and changed keys are refused with their
// fingerprint, nothing is fetched.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.archive.SshHostConfig.Transport;
import io.zpitr.fixtures.SshServer;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SshHostKeyTest {
    private static final WalFileName SEGMENT = WalFileName.of("000000010000000000000020");

    @RegisterExtension
    static SshServer host = SshServer.builder().build();

    @TempDir
    Path local;

    private SshSource source(SshServer server, Path knownHosts, Transport transport) {
        return new SshSource(
                SshTestHosts.config(server, knownHosts, transport),
                new HostReachability(local.resolve("state"), Duration.ofSeconds(60), Clock.systemUTC()),
                new ProcessRunner(),
                local.resolve("scratch"));
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void anUnknownHostKeyIsRefusedWithItsFingerprintAndNothingIsWritten(Transport transport) throws Exception {
        SshTestHosts.writeRandom(host.dataDir().resolve(SEGMENT.name()), 1000, 20);
        Path empty = Files.createFile(local.resolve("known_hosts"));

        try (SshSource source = source(host, empty, transport)) {
            SourceUnavailableException e = assertThrows(SourceUnavailableException.class, () -> source.find(SEGMENT));

            String message = e.getMessage();
            assertTrue(
                    message.startsWith("source '" + source.name() + "' (" + host.user() + "@" + host.address() + ":"
                            + host.port() + ", " + transport + "): host key refused: " + empty + " has no key for ["
                            + host.address() + "]:" + host.port() + "; the host presented ssh-ed25519 "
                            + host.hostKeyFingerprint()),
                    message);
            assertTrue(message.contains("\nHINT: verify " + host.hostKeyFingerprint()), message);
            assertTrue(
                    message.contains(
                            "ssh-keyscan -p " + host.port() + " -t ed25519 " + host.address() + " >> " + empty),
                    message);

            Path target = local.resolve("target");
            WalCopy copy = new WalCopy(source.name(), host.dataDir() + "/" + SEGMENT.name(), 1000);
            assertThrows(SourceUnavailableException.class, () -> source.download(copy, target));
            assertFalse(Files.exists(target), "nothing may be written from a host whose key was refused");
            assertEquals(0, Files.size(empty), "zpitr never adds keys to known_hosts");
            assertEquals(List.of(), files(local.resolve("scratch")));
        }
    }

    @Test
    void anotherHostsKnownHostsDoesNotVouchForThisOne() throws Exception {
        try (SshServer other = SshServer.builder().build().start();
                SshSource source = source(host, other.knownHostsFile(), Transport.SFTP)) {
            SourceUnavailableException e = assertThrows(SourceUnavailableException.class, () -> source.find(SEGMENT));
            assertTrue(
                    e.getMessage().contains("has no key for [" + host.address() + "]:" + host.port()), e.getMessage());
            assertTrue(e.getMessage().contains(host.hostKeyFingerprint()), e.getMessage());
        }
    }

    /**
     * OpenSSH looks a host on port 2222 up as [host]:2222 and, when that finds no key, also as
     * plain host ("checking without port identifier"). Both transports must agree with it.
     */
    @Test
    void aKeyListedForTheBareHostVouchesForOtherPortsAsInOpenSsh() throws Exception {
        Path bare = local.resolve("known_hosts");
        Files.writeString(bare, host.address() + " " + host.hostPublicKey() + "\n");
        SshTestHosts.writeRandom(host.dataDir().resolve(SEGMENT.name()), 1000, 23);

        for (Transport transport : Transport.values()) {
            try (SshSource source = source(host, bare, transport)) {
                assertEquals(1, source.find(SEGMENT).size(), transport.toString());
            }
        }
    }

    /** ssh calls a different key under the bare name "unknown", not "changed": so must the SFTP transport. */
    @Test
    void aDifferentKeyForTheBareHostIsUnknownNotChanged() throws Exception {
        try (SshServer other = SshServer.builder().build().start()) {
            Path bare = local.resolve("known_hosts");
            Files.writeString(bare, host.address() + " " + other.hostPublicKey() + "\n");

            for (Transport transport : Transport.values()) {
                try (SshSource source = source(host, bare, transport)) {
                    SourceUnavailableException e =
                            assertThrows(SourceUnavailableException.class, () -> source.find(SEGMENT));
                    assertTrue(
                            e.getMessage()
                                    .contains(transport + "): host key refused: " + bare + " has no key for ["
                                            + host.address() + "]:" + host.port() + "; the host presented ssh-ed25519 "
                                            + host.hostKeyFingerprint()),
                            e.getMessage());
                }
            }
        }
    }

    @Test
    void hashedKnownHostsLinesAreMatched() throws Exception {
        Path hashed = local.resolve("known_hosts");
        Files.copy(host.knownHostsFile(), hashed);
        new ProcessRunner()
                .run(io.zpitr.process.Command.of("ssh-keygen", "-H", "-f", hashed.toString()))
                .requireSuccess();
        assertTrue(Files.readString(hashed).startsWith("|1|"), Files.readString(hashed));
        SshTestHosts.writeRandom(host.dataDir().resolve(SEGMENT.name()), 1000, 21);

        for (Transport transport : Transport.values()) {
            try (SshSource source = source(host, hashed, transport)) {
                assertEquals(1, source.find(SEGMENT).size(), transport.toString());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aChangedHostKeyIsRefusedAsPossibleInterception(Transport transport) throws Exception {
        // The same address and port with the same user key, but a new host key: a reinstalled
        // host, or someone in the middle.
        try (SshServer original = SshServer.builder().build().start()) {
            Path knownHosts = Files.copy(original.knownHostsFile(), local.resolve("known_hosts"));
            SshTestHosts.writeRandom(original.dataDir().resolve(SEGMENT.name()), 1000, 22);
            original.stop();
            try (SshServer impostor = SshServer.builder()
                            .address(original.address())
                            .port(original.port())
                            .identity(original.identityFile())
                            .user(original.user())
                            .dataDir(original.dataDir())
                            .build()
                            .start();
                    SshSource source = source(impostor, knownHosts, transport)) {
                assertTrue(!impostor.hostKeyFingerprint().equals(original.hostKeyFingerprint()));

                SourceUnavailableException e =
                        assertThrows(SourceUnavailableException.class, () -> source.find(SEGMENT));

                String message = e.getMessage();
                assertTrue(
                        message.contains(transport + "): host key refused: it does not match the ssh-ed25519 key that "
                                + knownHosts + " holds for [" + impostor.address() + "]:" + impostor.port()
                                + "; the host presented ssh-ed25519 " + impostor.hostKeyFingerprint()),
                        message);
                assertTrue(message.contains("Someone may be intercepting the connection"), message);
                assertTrue(
                        message.contains("ssh-keygen -R '[" + impostor.address() + "]:" + impostor.port() + "' -f "
                                + knownHosts),
                        message);
                assertTrue(
                        message.contains("ssh-keyscan -p " + impostor.port() + " -t ed25519 " + impostor.address()),
                        message);
                assertEquals(List.of(), files(local.resolve("scratch")));
            }
        }
    }

    @Test
    void aMissingKnownHostsFileIsNamed() {
        Path missing = local.resolve("no_known_hosts");
        try (SshSource source = source(host, missing, Transport.SFTP)) {
            SourceUnavailableException e = assertThrows(SourceUnavailableException.class, () -> source.find(SEGMENT));
            assertTrue(
                    e.getMessage().contains("sftp): known_hosts file " + missing + " does not exist"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aKeyTheHostDoesNotAuthorizeIsAnAuthenticationFailure(Transport transport) throws Exception {
        Path stranger = local.resolve("id_ed25519");
        new ProcessRunner()
                .run(io.zpitr.process.Command.of(
                        "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger.toString()))
                .requireSuccess();
        SshHostConfig config = new SshHostConfig(
                "arch",
                host.address(),
                host.port(),
                host.user(),
                host.dataDir().toString(),
                stranger,
                host.knownHostsFile(),
                List.of(transport),
                Duration.ofSeconds(2));
        try (SshSource source = new SshSource(
                config,
                new HostReachability(local.resolve("state"), Duration.ofSeconds(60), Clock.systemUTC()),
                new ProcessRunner(),
                local.resolve("scratch"))) {
            SourceUnavailableException e = assertThrows(SourceUnavailableException.class, () -> source.find(SEGMENT));
            assertTrue(
                    e.getMessage()
                            .contains(transport + "): public-key authentication as '" + host.user() + "' with "
                                    + stranger + " was refused"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("\nHINT: "), e.getMessage());
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).toList();
        }
    }
}

// Proves that SshHostConfig refuses every value that could reach a remote shell or an ssh option unsafely.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.archive.SshHostConfig.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SshHostConfigTest {
    private static final Path KEY = Path.of("/var/lib/zpitr/.ssh/id_ed25519");
    private static final Path KNOWN = Path.of("/var/lib/zpitr/.ssh/known_hosts");

    private static SshHostConfig withPath(String path) {
        return new SshHostConfig(
                "host25",
                "192.0.2.25",
                22,
                "postgres",
                path,
                KEY,
                KNOWN,
                List.of(Transport.SFTP, Transport.SCP),
                Duration.ofSeconds(1));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/data/arch; rm -rf /",
                "/data/arch$(id)",
                "/data/`id`",
                "/data/arch && true",
                "/data/a b",
                "/data/arch\nid",
                "/data/../etc",
                "/data/./arch",
                "data/arch",
                "",
                "/data/*",
                "/data/arch?",
                "/data/'x'",
                "/data/\"x\"",
                "/data/arch|cat",
                "/data/arch>x",
                "~/arch",
                "/data/a\\b",
                "/",
            })
    void aHostileOrUnusableRemotePathIsRefusedAtConstruction(String path) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> withPath(path));
        assertTrue(e.getMessage().startsWith("archive source 'host25': path '"), e.getMessage());
        assertTrue(e.getMessage().contains("\nHINT: "), e.getMessage());
        assertTrue(!e.getMessage().contains("\nid"), "control characters are not echoed: " + e.getMessage());
    }

    @Test
    void aNullRemotePathIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> withPath(null));
    }

    @Test
    void anOrdinaryPathIsKeptAndATrailingSlashDropped() {
        assertEquals("/data04/pgdata/arch", withPath("/data04/pgdata/arch/").remotePath());
        assertEquals(
                "/data04/pg_data-15.x/arch@main",
                withPath("/data04//pg_data-15.x/arch@main").remotePath());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-oProxyCommand=x", "host name", "a;b", "", "host/x"})
    void aHostThatIsNotANameOrAddressIsRefused(String host) {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new SshHostConfig(
                        "h",
                        host,
                        22,
                        "postgres",
                        "/arch",
                        KEY,
                        KNOWN,
                        List.of(Transport.SFTP),
                        Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("host '"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-oProxyCommand=x", "post gres", "a;b", "", "root@x"})
    void aUserThatIsNotALoginNameIsRefused(String user) {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new SshHostConfig(
                        "h",
                        "192.0.2.25",
                        22,
                        user,
                        "/arch",
                        KEY,
                        KNOWN,
                        List.of(Transport.SFTP),
                        Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("user '"), e.getMessage());
    }

    @Test
    void filesThatOpenSshWouldSplitOrExpandAreRefused() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new SshHostConfig(
                        "h",
                        "192.0.2.25",
                        22,
                        "postgres",
                        "/arch",
                        KEY,
                        Path.of("/etc/zpitr/known hosts"),
                        List.of(Transport.SFTP),
                        Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("known_hosts '/etc/zpitr/known hosts'"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> new SshHostConfig(
                        "h",
                        "192.0.2.25",
                        22,
                        "postgres",
                        "/arch",
                        Path.of("/keys/id_%u"),
                        KNOWN,
                        List.of(Transport.SFTP),
                        Duration.ofSeconds(1)));
    }

    @Test
    void transportsMustBeGivenOnceEachAndTheTimeoutPositive() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new SshHostConfig(
                        "h", "192.0.2.25", 22, "postgres", "/arch", KEY, KNOWN, List.of(), Duration.ofSeconds(1)));
        assertThrows(
                IllegalArgumentException.class,
                () -> new SshHostConfig(
                        "h",
                        "192.0.2.25",
                        22,
                        "postgres",
                        "/arch",
                        KEY,
                        KNOWN,
                        List.of(Transport.SCP, Transport.SCP),
                        Duration.ofSeconds(1)));
        assertThrows(
                IllegalArgumentException.class,
                () -> new SshHostConfig(
                        "h", "192.0.2.25", 22, "postgres", "/arch", KEY, KNOWN, List.of(Transport.SCP), Duration.ZERO));
        assertThrows(
                IllegalArgumentException.class,
                () -> new SshHostConfig(
                        "h",
                        "192.0.2.25",
                        0,
                        "postgres",
                        "/arch",
                        KEY,
                        KNOWN,
                        List.of(Transport.SCP),
                        Duration.ofSeconds(1)));
    }

    @Test
    void transportsParseAsConfigured() {
        assertEquals(Transport.SFTP, Transport.parse("sftp"));
        assertEquals(Transport.SCP, Transport.parse(" SCP "));
        assertEquals("scp", Transport.SCP.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Transport.parse("rsync"));
        assertTrue(e.getMessage().contains("'rsync'"), e.getMessage());
    }

    @Test
    void knownHostsNamesFollowOpenSsh() {
        assertEquals("192.0.2.25", withPath("/arch").knownHostsName());
        SshHostConfig other = new SshHostConfig(
                "h",
                "127.0.0.5",
                2222,
                "postgres",
                "/arch",
                KEY,
                KNOWN,
                List.of(Transport.SFTP),
                Duration.ofMillis(1500));
        assertEquals("[127.0.0.5]:2222", other.knownHostsName());
        assertEquals("127.0.0.5:2222", other.hostAndPort());
        SshHostConfig v6 = new SshHostConfig(
                "h", "::1", 2222, "postgres", "/arch", KEY, KNOWN, List.of(Transport.SFTP), Duration.ofMillis(1500));
        assertEquals("[::1]:2222", v6.hostAndPort());
    }

    @Test
    void scpConnectTimeoutIsRoundedUpToWholeSeconds() {
        SshHostConfig config = new SshHostConfig(
                "h",
                "127.0.0.5",
                2222,
                "postgres",
                "/arch",
                KEY,
                KNOWN,
                List.of(Transport.SCP),
                Duration.ofMillis(1500));
        assertEquals(2, new SshEndpoint(config, null).connectTimeoutSeconds());
        SshHostConfig tiny = new SshHostConfig(
                "h",
                "127.0.0.5",
                2222,
                "postgres",
                "/arch",
                KEY,
                KNOWN,
                List.of(Transport.SCP),
                Duration.ofMillis(200));
        assertEquals(1, new SshEndpoint(tiny, null).connectTimeoutSeconds());
    }

    @Test
    void aCopyLocationOutsideTheArchiveIsRefusedBeforeAnyTransport() {
        SshEndpoint endpoint = new SshEndpoint(withPath("/arch"), null);
        String segment = "000000010000000000000003";
        assertEquals(
                null,
                endpoint.parse(new WalCopy("host25", "/arch/" + segment, 1)).folder());
        assertEquals(
                "20261120",
                endpoint.parse(new WalCopy("host25", "/arch/20261120/" + segment, 1))
                        .folder());
        assertTrue(
                endpoint.parse(new WalCopy("host25", "/arch/*/" + segment, -1)).isGlob());
        for (String bad : List.of(
                "/etc/passwd",
                "/arch/../etc/" + segment,
                "/arch/a b/" + segment,
                "/arch/$(id)/" + segment,
                "/arch/x/y/" + segment,
                "/arch/" + segment + ";id",
                "/arch2/" + segment)) {
            assertThrows(IllegalArgumentException.class, () -> endpoint.parse(new WalCopy("host25", bad, 1)), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> endpoint.parse(new WalCopy("nfs", "/arch/" + segment, 1)));
    }
}

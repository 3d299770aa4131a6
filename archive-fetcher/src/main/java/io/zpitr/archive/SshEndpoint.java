// What every SSH transport of one source shares: its configuration, the reachability gate and the wording of failures.
package io.zpitr.archive;

import io.zpitr.archive.SshHostConfig.Transport;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One configured SSH archive host as the transports see it. Every failure message starts with
 * {@link #where}: source name, {@code user@host:port} and transport, so an operator reading one
 * line knows which host and which path through it failed.
 */
final class SshEndpoint {
    /** A folder name below the archive path that zpitr searches: safe for SFTP globbing and for a remote shell. */
    static final Pattern SAFE_FOLDER = Pattern.compile("[A-Za-z0-9_+,=@-][A-Za-z0-9._+,=@-]*");

    /** How long a host that answered is trusted to be up without another TCP probe. */
    static final Duration PROBE_TRUSTED_FOR = Duration.ofSeconds(30);

    private final SshHostConfig config;
    private final HostReachability reachability;
    /** System.nanoTime() when the host last answered a probe, 0 if never or since it failed. */
    private volatile long answeredAtNanos;

    SshEndpoint(SshHostConfig config, HostReachability reachability) {
        this.config = config;
        this.reachability = reachability;
    }

    SshHostConfig config() {
        return config;
    }

    String name() {
        return config.name();
    }

    /** {@code source 'host25' (postgres@192.0.2.25:22, sftp)}. */
    String where(Transport transport) {
        return "source '" + config.name() + "' (" + config.user() + "@" + config.hostAndPort() + ", " + transport + ")";
    }

    SourceUnavailableException failure(Transport transport, String what) {
        return new SourceUnavailableException(config.name(), where(transport) + ": " + what);
    }

    SourceUnavailableException failure(Transport transport, String what, Throwable cause) {
        return new SourceUnavailableException(config.name(), where(transport) + ": " + what, cause);
    }

    /**
     * The gate before any new connection: throws when the host is remembered as down or does not
     * accept a TCP connection now. Once the host has answered, further connections within
     * {@link #PROBE_TRUSTED_FOR} skip the TCP probe (the down memory is still read): sshd logs
     * every bare probe as "kex_exchange_identification: Connection closed", and intrusion filters
     * such as fail2ban or sshguard may ban an address that produces hundreds of those, one per
     * scp copy.
     */
    void requireReachable(Transport transport) throws SshNoFallbackException {
        long answered = answeredAtNanos;
        if (answered != 0 && System.nanoTime() - answered < PROBE_TRUSTED_FOR.toNanos()) {
            Optional<Instant> until = reachability.downUntil(config.host(), config.port());
            if (until.isEmpty()) {
                return;
            }
            throw rememberedDown(
                    transport,
                    "remembered as down until " + until.get() + " ("
                            + reachability.stateFile(config.host(), config.port()) + ")");
        }
        HostReachability.Result result = reachability.check(config.host(), config.port(), config.connectTimeout());
        switch (result.status()) {
            case UP -> answeredAtNanos = System.nanoTime();
            case DOWN ->
                throw new SshNoFallbackException(
                        config.name(),
                        where(transport)
                                + ": host did not accept a TCP connection (" + result.reason() + "); skipping it until "
                                + result.downUntil()
                                + "\nHINT: check that the host is up and sshd listens on port " + config.port()
                                + "; zpitr tries it again after archive.down_for");
            case REMEMBERED_DOWN -> throw rememberedDown(transport, result.reason());
        }
    }

    private SshNoFallbackException rememberedDown(Transport transport, String reason) {
        return new SshNoFallbackException(
                config.name(),
                where(transport)
                        + ": host is skipped without trying: it did not answer earlier and is " + reason
                        + "\nHINT: delete that file to try the host again at once");
    }

    /** Records that the host stopped answering in the middle of an SSH connect. */
    void rememberDown() {
        answeredAtNanos = 0;
        reachability.markDown(config.host(), config.port());
    }

    /** Both credentials files must be readable before any attempt: a clear error beats "auth fail". */
    void requireCredentialFiles(Transport transport) throws SourceUnavailableException {
        if (!Files.isReadable(config.identityFile())) {
            throw failure(
                    transport,
                    "identity_file " + config.identityFile() + " does not exist or is not readable"
                            + "\nHINT: point identity_file at the private key whose public half is in the host's authorized_keys");
        }
        if (!Files.isReadable(config.knownHosts())) {
            throw failure(
                    transport,
                    "known_hosts file " + config.knownHosts() + " does not exist or is not readable"
                            + "\nHINT: after verifying the host's key fingerprint with its administrator, create it: "
                            + keyscanCommand("ed25519"));
        }
    }

    /** The command that appends the host's key of {@code shortType} to the configured known_hosts. */
    String keyscanCommand(String shortType) {
        return "ssh-keyscan " + (config.port() == 22 ? "" : "-p " + config.port() + " ") + "-t " + shortType + " "
                + config.host() + " >> " + config.knownHosts();
    }

    /** Seconds for OpenSSH's {@code ConnectTimeout}: the configured timeout rounded up, at least 1. */
    long connectTimeoutSeconds() {
        long millis = config.connectTimeout().toMillis();
        return Math.max(1, (millis + 999) / 1000);
    }

    /** {@code <path>/<file>}: the top-level location of a WAL file. */
    String topLevel(WalFileName file) {
        return config.remotePath() + "/" + file.name();
    }

    /** {@code <path>/<folder>/<file>}. */
    String inFolder(String folder, WalFileName file) {
        return config.remotePath() + "/" + folder + "/" + file.name();
    }

    /** {@code <path>/*}{@code /<file>}: the dated-layout glob that the scp transport hands to the remote shell. */
    String datedGlob(WalFileName file) {
        return config.remotePath() + "/*/" + file.name();
    }

    /**
     * A copy's location split into its parts, after checking that it is one this source could have
     * produced: {@link #topLevel}, {@link #inFolder} with a {@link #SAFE_FOLDER} name, or
     * {@link #datedGlob}. Anything else — another source's copy, a path outside the archive — is
     * refused, so a crafted {@link WalCopy} can neither read elsewhere nor reach the remote shell.
     */
    Location parse(WalCopy copy) {
        if (!config.name().equals(copy.source())) {
            throw new IllegalArgumentException(
                    "copy " + copy + " belongs to source '" + copy.source() + "', not to '" + config.name() + "'");
        }
        String prefix = config.remotePath() + "/";
        String location = copy.location();
        if (location != null && location.startsWith(prefix)) {
            String rest = location.substring(prefix.length());
            int slash = rest.indexOf('/');
            try {
                if (slash < 0) {
                    return new Location(null, WalFileName.of(rest));
                }
                String folder = rest.substring(0, slash);
                WalFileName file = WalFileName.of(rest.substring(slash + 1));
                if (folder.equals("*") || SAFE_FOLDER.matcher(folder).matches()) {
                    return new Location(folder, file);
                }
            } catch (IllegalArgumentException notAWalFile) {
                // Falls through to the refusal below, which names the whole location.
            }
        }
        throw new IllegalArgumentException("'" + location + "' is not a location of source '" + config.name()
                + "' (expected " + prefix + "FILE, " + prefix + "FOLDER/FILE or " + prefix + "*/FILE)");
    }

    /** Where a copy lives: {@code folder} is null at top level, {@code *} for the dated glob. */
    record Location(String folder, WalFileName file) {
        boolean isGlob() {
            return "*".equals(folder);
        }
    }
}

// The configured known_hosts file as JSch's host key repository, matched the way OpenSSH matches it.
package io.zpitr.archive;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.UserInfo;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * A read-only view of one known_hosts file for JSch that decides "known", "unknown" and
 * "changed" exactly as OpenSSH 9 does, so that the SFTP transport (JSch) and the scp fallback
 * (OpenSSH) agree about every host. For a port other than 22 OpenSSH looks up
 * {@code [host]:port}; only when that name has no key of the presented type at all does it also
 * try the bare {@code host} ("checking without port identifier"), accepting a matching key
 * there and otherwise calling the key unknown. JSch's own {@code KnownHosts} makes the same
 * fallback but reports a different key under the bare name as "changed", which would word the
 * refusal as an interception warning where ssh says "no host key is known".
 *
 * <p>Never adds or removes a key: zpitr does not edit known_hosts (StrictHostKeyChecking=yes).
 */
final class SshKnownHosts implements HostKeyRepository {
    private final HostKeyRepository file;
    private final String id;

    private SshKnownHosts(HostKeyRepository file, String id) {
        this.file = file;
        this.id = id;
    }

    /** Reads {@code knownHosts} into {@code jsch} and returns the OpenSSH-matching view of it. */
    static SshKnownHosts load(JSch jsch, Path knownHosts) throws JSchException {
        jsch.setKnownHosts(knownHosts.toString());
        return new SshKnownHosts(jsch.getHostKeyRepository(), knownHosts.toString());
    }

    @Override
    public int check(String host, byte[] key) {
        int exact = match(exactKeys(host), key);
        int close = portSuffix(host);
        if (exact != NOT_INCLUDED || close < 0) {
            return exact;
        }
        // OpenSSH's fallback for a non-standard port: accept a matching bare-host key, else "unknown".
        return match(file.getHostKey(host.substring(1, close), null), key) == OK ? OK : NOT_INCLUDED;
    }

    /** All keys listed for {@code host}, including the bare host's for {@code [host]:port}, as JSch lists them. */
    @Override
    public HostKey[] getHostKey(String host, String type) {
        return file.getHostKey(host, type);
    }

    /** OK, CHANGED (a different key of the same type is listed) or NOT_INCLUDED. */
    private static int match(HostKey[] listed, byte[] key) {
        String type = keyType(key);
        int result = NOT_INCLUDED;
        for (HostKey known : listed) {
            String marker = known.getMarker();
            if (!known.getType().equals(type) || "@cert-authority".equals(marker)) {
                continue;
            }
            if (Arrays.equals(Base64.getDecoder().decode(known.getKey()), key)) {
                // A @revoked line for this very key is caught by JSch right after an OK.
                return OK;
            }
            if (!"@revoked".equals(marker)) {
                result = CHANGED;
            }
        }
        return result;
    }

    /** Keys listed under exactly {@code host} (for {@code [host]:port}: without the bare host's). */
    private HostKey[] exactKeys(String host) {
        HostKey[] all = file.getHostKey(host, null);
        int close = portSuffix(host);
        if (close < 0) {
            return all;
        }
        // JSch appends the bare host's keys after the exact [host]:port ones; drop that tail.
        HostKey[] bare = file.getHostKey(host.substring(1, close), null);
        return Arrays.copyOf(all, Math.max(0, all.length - bare.length));
    }

    /** The index of "]:" in a {@code [host]:port} name, or -1 for a bare name. */
    private static int portSuffix(String host) {
        int close = host == null ? -1 : host.indexOf("]:");
        return host != null && host.startsWith("[") && close > 1 ? close : -1;
    }

    @Override
    public HostKey[] getHostKey() {
        return file.getHostKey();
    }

    @Override
    public String getKnownHostsRepositoryID() {
        return id;
    }

    @Override
    public void add(HostKey hostkey, UserInfo ui) {
        throw new IllegalStateException("zpitr never adds host keys to " + id);
    }

    @Override
    public void remove(String host, String type) {
        throw new IllegalStateException("zpitr never removes host keys from " + id);
    }

    @Override
    public void remove(String host, String type, byte[] key) {
        throw new IllegalStateException("zpitr never removes host keys from " + id);
    }

    /** The algorithm name at the start of an SSH public key blob, e.g. {@code ssh-ed25519}. */
    static String keyType(byte[] blob) {
        if (blob.length < 4) {
            return "";
        }
        int length = ByteBuffer.wrap(blob, 0, 4).getInt();
        if (length < 0 || length > blob.length - 4) {
            return "";
        }
        return new String(blob, 4, length, StandardCharsets.US_ASCII);
    }

    /** The fingerprint as {@code ssh-keygen -lf} prints it: {@code SHA256:} and unpadded base64. */
    static String fingerprint(byte[] blob) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** The type name {@code ssh-keyscan -t} expects: {@code ed25519}, {@code ecdsa}, {@code rsa}. */
    static String keyscanType(String keyType) {
        if (keyType.startsWith("ecdsa-")) {
            return "ecdsa";
        }
        if (keyType.equals("ssh-dss")) {
            return "dsa";
        }
        return keyType.startsWith("ssh-") ? keyType.substring(4) : keyType;
    }
}

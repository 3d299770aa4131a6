// SSH keys for the sandbox, made by the real ssh-keygen.
package io.zpitr.appliance.demo;

import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/** Fresh ed25519 keys without passphrase, and private copies for another OS user. */
final class Keys {
    private Keys() {}

    /** A fresh key pair at {@code privateKey} and {@code privateKey.pub}. */
    static void generate(ProcessRunner runner, Path privateKey, String comment) throws IOException {
        // ssh-keygen asks before overwriting, and fails with stdin closed.
        Files.deleteIfExists(privateKey);
        Files.deleteIfExists(publicKeyOf(privateKey));
        runner.run(Command.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", privateKey.toString())
                        .timeout(Duration.ofSeconds(30)))
                .requireSuccess();
    }

    static Path publicKeyOf(Path privateKey) {
        return privateKey.resolveSibling(privateKey.getFileName() + ".pub");
    }

    /**
     * Copies a private key for {@code osUser}: ssh and scp refuse a key others can read, so the copy
     * is created 0600 (never readable by others, not even briefly) and then given to the user.
     */
    static Path copyFor(ProcessRunner runner, Path privateKey, String osUser, Path folder) throws IOException {
        Files.createDirectories(folder);
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
        Path copy = folder.resolve(privateKey.getFileName());
        Files.deleteIfExists(copy);
        Files.createFile(copy, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(copy, Files.readAllBytes(privateKey));
        runner.run(Command.of("chown", "-R", osUser + ":", folder.toString())).requireSuccess();
        return copy;
    }
}

// The host runs sshd but will not open the SFTP subsystem: the cue for the scp fallback.
package io.zpitr.archive;

/** The SSH session came up but the SFTP subsystem request was refused; carries the full message. */
final class SftpRefusedException extends Exception {
    SftpRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}

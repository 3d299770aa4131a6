// A failure that no other transport may paper over: the host is down, its key was refused, or its archive could not be
// read.
package io.zpitr.archive;

/**
 * Ends the search on this source without trying its other transports:
 *
 * <ul>
 *   <li>the host did not answer a TCP connect (another transport would wait for the same timeout);</li>
 *   <li>its host key is unknown or changed (scp after a refused key would only repeat the refusal,
 *       and must never look like a way around it);</li>
 *   <li>SFTP logged in but could not read the archive (permission denied, I/O error): the scp
 *       fallback cannot list, and its glob would read an unreadable folder as "no such file", turning
 *       a failure into a false "missing" that could end a recovery early.</li>
 * </ul>
 */
final class SshNoFallbackException extends SourceUnavailableException {
    SshNoFallbackException(String source, String message) {
        super(source, message);
    }

    SshNoFallbackException(String source, String message, Throwable cause) {
        super(source, message, cause);
    }
}

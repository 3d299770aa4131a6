// The one narrow interface every archive source fills: a local folder, an SSH host.
package io.zpitr.archive;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A place where archived WAL may be found. Implementations: {@code LocalDirectorySource} (a local
 * or NFS-mounted folder) and {@code SshSource} (an archive host over SFTP, with the system
 * {@code scp -O} as fallback).
 *
 * <p>Layouts searched: {@code <path>/<file>}, then {@code <path>/<dir>/<file>} for each folder
 * directly below {@code path} (dated folders, the runbook's {@code arch/*}/%f), newest-named first.
 *
 * <p>Contract on "missing" versus "failed": {@link #find} returning an empty list means the source
 * answered and does not have the file. A source that could not be asked (host unreachable,
 * authentication refused, host key unknown or changed, folder unreadable) throws
 * {@link SourceUnavailableException}; the caller then tries the next source and never reports the
 * file as missing on the strength of this one.
 */
public interface WalSource extends AutoCloseable {
    /** The configured name, used in every message about this source. */
    String name();

    /**
     * Every copy of {@code file} on this source, best first (see the class comment for the order).
     *
     * @throws SourceUnavailableException if the source could not be asked
     */
    List<WalCopy> find(WalFileName file) throws SourceUnavailableException;

    /**
     * Copies one copy's bytes into {@code target}, a temporary file the caller owns and will
     * verify, fsync and rename. Never writes anywhere else.
     *
     * @throws SourceUnavailableException if the source stopped answering
     * @throws IOException                if writing {@code target} failed
     */
    void download(WalCopy copy, Path target) throws SourceUnavailableException, IOException;

    /**
     * Whether this source's "not here" speaks for the archive. A cache of it (zpitr's WAL mirror)
     * may lag the archive: its misses never make a file missing, only the answer of a source that
     * is the archive does. Its copies are as good as any other once verified.
     */
    default boolean authoritative() {
        return true;
    }

    /** Releases connections; idempotent. */
    @Override
    void close();
}

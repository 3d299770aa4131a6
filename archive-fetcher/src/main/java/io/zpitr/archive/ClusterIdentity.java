// Reads which cluster a data directory belongs to: the system identifier at the start of global/pg_control.
package io.zpitr.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.OptionalLong;

/**
 * The system identifier of a PostgreSQL cluster, as its WAL carries it in every segment's long page
 * header. {@code ControlFileData} opens with it ({@code uint64 system_identifier}, first field in
 * PostgreSQL 11 to 18), and {@code pg_control} is always {@value #CONTROL_FILE_SIZE} bytes.
 * PostgreSQL runs {@code restore_command} in the data directory, so wal-fetch learns there which
 * cluster asks.
 */
public final class ClusterIdentity {
    /** PG_CONTROL_FILE_SIZE: pg_control is padded to this size in every supported major. */
    static final int CONTROL_FILE_SIZE = 8192;

    private ClusterIdentity() {}

    /**
     * The system identifier in {@code dataDir/global/pg_control}; empty when there is no such file
     * (not a data directory).
     *
     * @throws IOException the file exists but cannot be read, or is not a control file; the
     *                     message names it
     */
    public static OptionalLong ofDataDirectory(Path dataDir) throws IOException {
        Path control = dataDir.resolve("global").resolve("pg_control");
        if (!Files.exists(control)) {
            return OptionalLong.empty();
        }
        try (FileChannel channel = FileChannel.open(control, StandardOpenOption.READ)) {
            if (channel.size() != CONTROL_FILE_SIZE) {
                throw new IOException(control + " has " + channel.size() + " bytes, not the " + CONTROL_FILE_SIZE
                        + " of a PostgreSQL control file");
            }
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && channel.read(b, b.position()) >= 0) {
                // read until the 8 bytes are in
            }
            long id = b.getLong(0);
            if (id == 0) {
                throw new IOException(control + " holds system identifier 0: not an initialised control file");
            }
            return OptionalLong.of(id);
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
    }
}

// Follows a growing log file and hands out only its complete lines.
package io.zpitr.appliance.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The new complete lines of a file since the last call; a line still being written waits for its
 * newline. Reads only what was appended, so following a long log costs nothing per poll.
 */
final class ServerLogTail {
    private final Path file;
    private long offset;
    private final StringBuilder partial = new StringBuilder();
    private final List<String> recent = new ArrayList<>();

    ServerLogTail(Path file) {
        this.file = file;
    }

    /** The lines completed since the last call (none when nothing was appended). */
    List<String> newLines() throws IOException {
        List<String> lines = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < offset) {
                offset = 0; // truncated: start over
                partial.setLength(0);
            }
            if (size == offset) {
                return lines;
            }
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - offset, 1 << 20));
            int n = ch.read(buf, offset);
            if (n <= 0) {
                return lines;
            }
            offset += n;
            // A multi-byte character split at the end of the read is at worst mangled in one line
            // of a progress message; the phrases matched are ASCII.
            partial.append(new String(buf.array(), 0, n, StandardCharsets.UTF_8));
        }
        int nl;
        while ((nl = partial.indexOf("\n")) >= 0) {
            String line = partial.substring(0, nl);
            partial.delete(0, nl + 1);
            lines.add(line);
            recent.add(line);
            if (recent.size() > 30) {
                recent.remove(0);
            }
        }
        return lines;
    }

    /** The last lines read, for an error message. */
    String recentLines() {
        return String.join("\n", recent);
    }
}

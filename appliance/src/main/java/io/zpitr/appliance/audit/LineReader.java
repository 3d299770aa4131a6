// Splits the log into lines on '\n' only, keeping each line's exact bytes, offset and whether it ended.
package io.zpitr.appliance.audit;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;

/** Streams lines so a long log is never held whole; the hash chain needs each line's exact bytes. */
final class LineReader implements Closeable {
    /** One line without its newline; {@code terminated} is false for a last line cut short. */
    record Line(long number, long offset, byte[] bytes, boolean terminated) {}

    private final InputStream in;
    private final byte[] buffer = new byte[64 * 1024];
    private int start;
    private int end;
    private long offset;
    private long number;

    LineReader(InputStream in) {
        this.in = in;
    }

    /** The next line, or null at the end of the file. */
    Line next() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        long lineOffset = offset;
        while (true) {
            if (start == end) {
                end = in.read(buffer);
                start = 0;
                if (end <= 0) {
                    end = 0;
                    if (line.size() == 0) {
                        return null;
                    }
                    return new Line(++number, lineOffset, line.toByteArray(), false);
                }
            }
            for (int i = start; i < end; i++) {
                if (buffer[i] == '\n') {
                    line.write(buffer, start, i - start);
                    offset += i - start + 1;
                    start = i + 1;
                    return new Line(++number, lineOffset, line.toByteArray(), true);
                }
            }
            line.write(buffer, start, end - start);
            offset += end - start;
            start = end;
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}

// A source that could not be asked at all, as opposed to one that lacks the file.
package io.zpitr.archive;

/** The source could not be asked: unreachable, refused authentication, unknown host key, unreadable. */
public class SourceUnavailableException extends Exception {
    private final String source;

    public SourceUnavailableException(String source, String message) {
        super(message);
        this.source = source;
    }

    public SourceUnavailableException(String source, String message, Throwable cause) {
        super(message, cause);
        this.source = source;
    }

    /** The source's configured name. */
    public String source() {
        return source;
    }
}

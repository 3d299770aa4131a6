// Fetches one WAL file: sources in order, every copy verified, the first good one landed atomically.
package io.zpitr.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The heart of {@code zpitr wal-fetch}, after pgBackRest's archive-get: try each source in the
 * configured order; each source's failure becomes one line, not an abort; every copy is verified
 * before it may reach the destination; the first good copy wins and lands atomically. "Missing" is
 * reported only when a source answered and none had a good copy; when no source could be asked at
 * all, the outcome says so, listing every source's reason.
 */
public final class WalFetcher implements AutoCloseable {
    /** How a fetch ended. */
    public enum Status {
        /** A verified copy is at the destination. */
        FETCHED,
        /** At least one source answered; none had the file. PostgreSQL's normal end of archive. */
        MISSING,
        /** Copies were found but none verified; nothing was written. */
        ONLY_BAD_COPIES,
        /** No source could be asked. */
        UNAVAILABLE
    }

    /**
     * The outcome of one fetch.
     *
     * @param status       how it ended
     * @param lines        one line per source (and per bad copy) saying what happened there
     * @param verification the verification of the landed copy, when fetched
     */
    public record Outcome(Status status, List<String> lines, WalVerifier.Result verification) {
        public Outcome {
            lines = List.copyOf(lines);
        }
    }

    private final List<WalSource> sources;
    private final WalVerifier verifier;
    private final Landing landing;

    public WalFetcher(List<WalSource> sources, WalVerifier verifier) {
        this(sources, verifier, Landing.DURABLE);
    }

    /** @param landing how a verified copy is put in place ({@link Landing#DURABLE} for %p) */
    public WalFetcher(List<WalSource> sources, WalVerifier verifier, Landing landing) {
        this.sources = List.copyOf(sources);
        this.verifier = Objects.requireNonNull(verifier);
        this.landing = Objects.requireNonNull(landing);
    }

    /**
     * Fetches {@code file} to {@code destination}. Nothing but a verified, complete file ever
     * appears at {@code destination}; temporary files are removed whatever happens.
     *
     * @throws IOException when the destination's folder cannot be written (a local problem)
     */
    public Outcome fetch(WalFileName file, Path destination) throws IOException {
        List<String> lines = new ArrayList<>();
        boolean answered = false;
        boolean badCopies = false;
        for (WalSource source : sources) {
            List<WalCopy> copies;
            long start = System.nanoTime();
            try {
                copies = source.find(file);
            } catch (SourceUnavailableException e) {
                lines.add(source.name() + ": unavailable: " + oneLine(e.getMessage()));
                continue;
            } catch (RuntimeException e) {
                lines.add(source.name() + ": failed: " + oneLine(String.valueOf(e.getMessage())));
                continue;
            }
            answered |= source.authoritative() || !copies.isEmpty();
            if (copies.isEmpty()) {
                lines.add(source.name() + ": " + file + " not found");
                continue;
            }
            for (WalCopy copy : copies) {
                Path temp = AtomicLanding.tempFileBeside(destination);
                try {
                    source.download(copy, temp);
                    WalVerifier.Result result = verifier.verify(temp, file);
                    if (result.ok()) {
                        AtomicLanding.land(temp, destination, landing);
                        lines.add(source.name() + ": fetched " + copy.location() + " in "
                                + (System.nanoTime() - start) / 1_000_000 + " ms");
                        return new Outcome(Status.FETCHED, lines, result);
                    }
                    badCopies = true;
                    lines.add(source.name() + ": bad copy " + copy.location() + ": " + result.reason());
                } catch (SourceUnavailableException e) {
                    lines.add(source.name() + ": unavailable while copying " + copy.location() + ": "
                            + oneLine(e.getMessage()));
                    break;
                } finally {
                    Files.deleteIfExists(temp);
                }
            }
        }
        if (!answered) {
            return new Outcome(Status.UNAVAILABLE, lines, null);
        }
        return new Outcome(badCopies ? Status.ONLY_BAD_COPIES : Status.MISSING, lines, null);
    }

    /** Closes every source (their connections); idempotent. */
    @Override
    public void close() {
        for (WalSource s : sources) {
            try {
                s.close();
            } catch (RuntimeException e) {
                // Closing is best effort: the process is ending or the connection is already gone.
            }
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ').replace('\r', ' ');
    }
}

// Each target's last replication run, kept in <state_dir>/replication/<target>.json for status and metrics.
package io.zpitr.appliance.replication;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * What {@code zpitr status} and the metrics say about a target: the last run's outcome, bytes and
 * sets sent, and the newest set complete on the target (the cursor). Written after each set and
 * at the end of each run (temp file, then rename), so a killed run still leaves the last complete
 * set on record.
 *
 * @param target           the target's name
 * @param finished         when the run ended (or, while it runs, when the last set completed), ISO-8601
 * @param outcome          {@code ok}, {@code failed} or {@code running}
 * @param error            the failure's first line, or null
 * @param bytesSent        bytes of the send streams of that run
 * @param setsSent         sets completed in that run
 * @param newestSet        the newest set complete on the target, or null
 * @param newestSetCreated that set's creation time, ISO-8601, or null
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ReplicationState(
        String target,
        String finished,
        String outcome,
        String error,
        @JsonProperty("bytes_sent") long bytesSent,
        @JsonProperty("sets_sent") int setsSent,
        @JsonProperty("newest_set") String newestSet,
        @JsonProperty("newest_set_created") String newestSetCreated) {

    private static final ObjectMapper JSON =
            new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The file of one target. */
    public static Path file(Path stateDir, String target) {
        return stateDir.resolve("replication").resolve(target + ".json");
    }

    /** The target's recorded state; empty when it never ran or the file cannot be read. */
    public static Optional<ReplicationState> read(Path stateDir, String target) {
        try {
            return Optional.of(JSON.readValue(Files.readString(file(stateDir, target)), ReplicationState.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Writes it atomically. */
    public void write(Path stateDir) {
        Path f = file(stateDir, target);
        try {
            Files.createDirectories(f.getParent());
            Path temp = f.resolveSibling("." + f.getFileName() + ".tmp");
            Files.writeString(temp, JSON.writeValueAsString(this));
            Files.move(temp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the replication state " + f + ": " + e.getMessage(), e);
        }
    }
}

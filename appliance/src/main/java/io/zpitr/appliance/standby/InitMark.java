// A mark in state_dir that a standby init is under way, so that one killed mid-way is recognised, named and cleaned up
// after.
package io.zpitr.appliance.standby;

import io.zpitr.process.ProcessTrees;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * {@code state_dir/standby-init.mark}: written before the first folder is made, removed when
 * {@code standby init} ends either way it can end by itself (built, or failed and cleaned up). A
 * mark whose process is gone means an init that was killed (SIGKILL, power loss): pg_basebackup's
 * partial copy is still in the folders it names, and a copy of the replication password may be
 * in its temporary folder. The next {@code standby init} finds it ({@link #earlier}), removes that
 * password copy at once, and names the folders to clean instead of the bare "not empty".
 *
 * <p>The process is recognised by pid and start time, so a pid reused by another program does not
 * make a dead init look alive.
 */
final class InitMark {
    static final String FILE = "standby-init.mark";

    private final Path file;
    /** The init's process, as {@link ProcessTrees#identity}. */
    private final String process;

    private final List<Path> folders;
    private final Optional<Path> passwordFolder;

    private InitMark(Path file, String process, List<Path> folders, Optional<Path> passwordFolder) {
        this.file = file;
        this.process = process;
        this.folders = List.copyOf(folders);
        this.passwordFolder = passwordFolder;
    }

    /** Marks this process as filling {@code folders} (the data directory first). */
    static InitMark write(Path stateDir, List<Path> folders) throws IOException {
        InitMark mark = new InitMark(
                stateDir.resolve(FILE), ProcessTrees.identity(ProcessHandle.current()), folders, Optional.empty());
        mark.save();
        return mark;
    }

    /** The same mark, also naming the temporary folder that holds a copy of the password while pg_basebackup runs. */
    InitMark withPasswordFolder(Path folder) throws IOException {
        InitMark mark = new InitMark(file, process, folders, Optional.of(folder));
        mark.save();
        return mark;
    }

    /** Removes the mark: this init ended by itself. */
    void remove() throws IOException {
        Files.deleteIfExists(file);
    }

    /** The mark an earlier standby init left in {@code stateDir}, if any. */
    static Optional<InitMark> earlier(Path stateDir) throws IOException {
        Path file = stateDir.resolve(FILE);
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        List<Path> folders = new ArrayList<>();
        for (int i = 0; p.getProperty("folder." + i) != null; i++) {
            folders.add(Path.of(p.getProperty("folder." + i)));
        }
        return Optional.of(new InitMark(
                file,
                p.getProperty("process", ""),
                folders,
                Optional.ofNullable(p.getProperty("password_folder"))
                        .filter(s -> !s.isBlank())
                        .map(Path::of)));
    }

    /** Whether the init that wrote this mark still runs. */
    boolean running() {
        return ProcessTrees.runs(process);
    }

    /** "pid N, started T", for messages. */
    String describeProcess() {
        int slash = process.indexOf('/');
        if (!process.matches("\\d+/\\d+")) {
            return "pid ?"; // a damaged mark
        }
        return "pid " + process.substring(0, slash) + ", started "
                + Instant.ofEpochMilli(Long.parseLong(process.substring(slash + 1)))
                        .truncatedTo(ChronoUnit.SECONDS);
    }

    /** The temporary folder of its password copy, once it made one. */
    Optional<Path> passwordFolder() {
        return passwordFolder;
    }

    /** The folders it named that are not empty now: what pg_basebackup left there. */
    List<Path> leftovers() throws IOException {
        List<Path> left = new ArrayList<>();
        for (Path f : folders) {
            if (Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)) {
                try (DirectoryStream<Path> s = Files.newDirectoryStream(f)) {
                    if (s.iterator().hasNext()) {
                        left.add(f);
                    }
                }
            }
        }
        return left;
    }

    /** Deletes the killed init's temporary copy of the password, if it is still there. */
    void removePasswordCopy() throws IOException {
        if (passwordFolder.isEmpty() || !Files.isDirectory(passwordFolder.get(), LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(passwordFolder.get())) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private void save() throws IOException {
        Properties p = new Properties();
        p.setProperty("process", process);
        for (int i = 0; i < folders.size(); i++) {
            p.setProperty("folder." + i, folders.get(i).toString());
        }
        passwordFolder.ifPresent(f -> p.setProperty("password_folder", f.toString()));
        Files.createDirectories(file.getParent());
        Path temp = file.resolveSibling(FILE + ".tmp");
        try (Writer out = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
            p.store(out, "zpitr standby init under way; removed when it ends");
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}

// Finds and stops processes without a shell: by pid file, by pid, or by what their command line names.
package io.zpitr.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/** Stopping a process means SIGTERM to it and its descendants, then SIGKILL to whatever outlives the grace period. */
public final class ProcessTrees {
    private ProcessTrees() {}

    /** The pid in a pid file (first line), if the file exists and holds one. */
    public static Optional<Long> pidIn(Path pidFile) {
        try {
            String first = Files.readString(pidFile).strip().lines().findFirst().orElse("");
            return first.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(first.strip()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The live process with this pid whose executable or command line passes {@code is}: a reused pid is left alone. */
    public static Optional<ProcessHandle> live(long pid, Predicate<ProcessHandle> is) {
        return ProcessHandle.of(pid).filter(h -> alive(h.pid())).filter(is);
    }

    public static Predicate<ProcessHandle> executableEndsWith(String name) {
        return h -> h.info().command().map(c -> c.endsWith("/" + name)).orElse(false);
    }

    public static Predicate<ProcessHandle> commandLineContains(String text) {
        return h -> commandLine(h).contains(text);
    }

    /**
     * The command line as the kernel shows it ({@code /proc/PID/cmdline}, NULs as spaces), else as
     * the JDK reports it. Not only the JDK's: a process that rewrites its title (sshd does) keeps its
     * arguments in the kernel's copy, while the JDK then reports only the executable.
     */
    public static String commandLine(ProcessHandle h) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline"));
            String text =
                    new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip();
            if (!text.isEmpty()) {
                return text;
            }
        } catch (IOException | SecurityException e) {
            // not Linux, or gone: the JDK's view
        }
        return h.info().commandLine().orElse("");
    }

    /**
     * Every live process, other than this one and its ancestors, whose command line contains
     * {@code text} (sshd rewrites its title, but keeps its arguments in it).
     */
    public static List<ProcessHandle> mentioning(String text) {
        Set<Long> us = new HashSet<>();
        for (Optional<ProcessHandle> p = Optional.of(ProcessHandle.current());
                p.isPresent();
                p = p.get().parent()) {
            us.add(p.get().pid());
        }
        return ProcessHandle.allProcesses()
                .filter(h -> !us.contains(h.pid()))
                .filter(h -> commandLine(h).contains(text))
                .filter(h -> alive(h.pid()))
                .toList();
    }

    /**
     * Every live process, other than this one, that works in or holds a file open below
     * {@code folder} ({@code /proc/PID/cwd} and {@code /proc/PID/fd}): what keeps a mount busy.
     * Processes this user may not inspect are not seen.
     */
    public static List<ProcessHandle> holding(Path folder) {
        Path top = folder.toAbsolutePath().normalize();
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses()
                .filter(h -> h.pid() != self)
                .filter(h -> holds(h.pid(), top))
                .filter(h -> alive(h.pid()))
                .toList();
    }

    private static boolean holds(long pid, Path top) {
        Path proc = Path.of("/proc", Long.toString(pid));
        try {
            if (Files.readSymbolicLink(proc.resolve("cwd")).startsWith(top)) {
                return true;
            }
            try (var fds = Files.list(proc.resolve("fd"))) {
                for (Path fd : (Iterable<Path>) fds::iterator) {
                    try {
                        if (Files.readSymbolicLink(fd).startsWith(top)) {
                            return true;
                        }
                    } catch (IOException e) {
                        // closed meanwhile
                    }
                }
            }
        } catch (IOException | SecurityException e) {
            return false; // gone, or not ours to inspect
        }
        return false;
    }

    /** SIGTERM to the process and its descendants; SIGKILL after {@code grace}; returns once all are gone. */
    public static void stop(ProcessHandle process, Duration grace) {
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        all.add(0, process);
        all.forEach(ProcessHandle::destroy);
        if (awaitGone(all, grace)) {
            return;
        }
        all.forEach(ProcessHandle::destroyForcibly);
        if (!awaitGone(all, Duration.ofSeconds(10))) {
            throw new IllegalStateException("process " + process.pid() + " ("
                    + process.info().commandLine().orElse("?") + ") would not die, not even from SIGKILL");
        }
    }

    private static boolean awaitGone(List<ProcessHandle> processes, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (processes.stream().anyMatch(p -> alive(p.pid()))) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for processes to end", e);
            }
        }
        return true;
    }

    /**
     * A process as a record that outlives it: {@code PID/START}, START being its start in epoch
     * milliseconds (for {@link #runs}; a mark or a property names its writer this way).
     */
    public static String identity(ProcessHandle process) {
        return process.pid() + "/"
                + process.info().startInstant().map(i -> i.toEpochMilli()).orElse(0L);
    }

    /**
     * Whether the process an {@link #identity} names still runs: that pid, alive, started at that
     * time (a pid the kernel has since given to another program is not it). False for anything
     * that is not an identity.
     */
    public static boolean runs(String identity) {
        if (!identity.matches("\\d{1,10}/\\d{1,15}")) {
            return false;
        }
        long pid = Long.parseLong(identity.substring(0, identity.indexOf('/')));
        return ProcessHandle.of(pid)
                .filter(h -> alive(h.pid()))
                .map(ProcessTrees::identity)
                .filter(identity::equals)
                .isPresent();
    }

    /** Alive and not a zombie: a zombie holds no port, socket or file and is as good as gone. */
    public static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String state = stat.substring(stat.lastIndexOf(')') + 1).strip();
            return !state.startsWith("Z") && !state.startsWith("X");
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
    }
}

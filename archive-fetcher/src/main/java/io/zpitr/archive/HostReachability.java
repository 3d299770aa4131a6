// Decides whether an archive host is worth an SSH attempt: one bounded TCP connect, and a memory of hosts that did not
// answer, shared by every zpitr process.
package io.zpitr.archive;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reachability gate in front of every SSH connection. {@link #check} first consults the
 * down-host memory; a host remembered as down is reported at once, without any network traffic.
 * Otherwise it makes one plain TCP connect bounded by the connect timeout. A host that refuses
 * or does not answer is remembered as down for {@code down_for}; a host that answers is forgotten.
 *
 * <p>The memory lives in {@code <state_dir>/down/<host>_<port>}, one small file per endpoint holding
 * the epoch milliseconds until which it counts as down, so that later invocations — each
 * {@code restore_command} is a new process — skip a dead host without waiting for a timeout
 * again: one dead host costs one timeout per {@code down_for}, not one per segment. Files are
 * written atomically (temporary file, rename); a missing, unreadable or garbled file means "not
 * known to be down". Failing to write the memory is logged and does not change the verdict.
 *
 * <p>Time comes from the given {@link Clock}; the probe's own timeout is measured by the socket.
 * Name resolution happens before the connect and is not bounded by the timeout (use addresses
 * for hosts whose DNS may hang). Thread-safe.
 */
public final class HostReachability {
    private static final Logger LOG = LoggerFactory.getLogger(HostReachability.class);
    /** What may appear in a host part of a state file name: names and IPv4/IPv6 addresses. */
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9:][A-Za-z0-9.:-]*");

    /** How a check ended. */
    public enum Status {
        /** The host accepted a TCP connection just now. */
        UP,
        /** The host refused or did not answer just now; it is now remembered as down. */
        DOWN,
        /** The host is remembered as down; nothing was sent to it. */
        REMEMBERED_DOWN
    }

    /**
     * The verdict on one endpoint.
     *
     * @param status    what happened
     * @param downUntil until when the host is skipped; {@code null} when {@link Status#UP}
     * @param reason    why it is down, e.g. {@code connection refused} or {@code no answer within 1000 ms};
     *                  empty when up
     */
    public record Result(Status status, Instant downUntil, String reason) {
        /** Whether an SSH connection is worth trying. */
        public boolean isUp() {
            return status == Status.UP;
        }
    }

    private final Path downDir;
    private final Duration downFor;
    private final Clock clock;

    /**
     * @param stateDir the configured {@code state_dir}; the memory goes to its {@code down} folder,
     *                 created when first needed
     * @param downFor  how long a host that did not answer is skipped ({@code archive.down_for})
     * @param clock    the time source for the memory
     */
    public HostReachability(Path stateDir, Duration downFor, Clock clock) {
        this.downDir = Objects.requireNonNull(stateDir, "stateDir").resolve("down");
        this.downFor = Objects.requireNonNull(downFor, "downFor");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (downFor.isNegative()) {
            throw new IllegalArgumentException("down_for must not be negative: " + downFor);
        }
    }

    /**
     * Whether {@code host:port} is worth an SSH attempt. A host remembered as down yields
     * {@link Status#REMEMBERED_DOWN} without any connect. Otherwise one TCP connect bounded by
     * {@code connectTimeout} decides: {@link Status#UP} (the memory of this endpoint is cleared) or
     * {@link Status#DOWN} (remembered for {@code down_for}).
     */
    public Result check(String host, int port, Duration connectTimeout) {
        Optional<Instant> remembered = downUntil(host, port);
        if (remembered.isPresent()) {
            return new Result(
                    Status.REMEMBERED_DOWN,
                    remembered.get(),
                    "remembered as down until " + remembered.get() + " (" + stateFile(host, port) + ")");
        }
        String failure = probe(host, port, connectTimeout);
        if (failure == null) {
            markUp(host, port);
            return new Result(Status.UP, null, "");
        }
        Instant until = markDown(host, port);
        return new Result(Status.DOWN, until, failure);
    }

    /** Until when {@code host:port} is remembered as down; empty when it is not (or no longer). */
    public Optional<Instant> downUntil(String host, int port) {
        Path file = stateFile(host, port);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.debug("cannot read {}: {}; treating {}:{} as not known to be down", file, e.toString(), host, port);
            return Optional.empty();
        }
        long untilMillis;
        try {
            untilMillis = Long.parseLong(text);
        } catch (NumberFormatException e) {
            LOG.debug("ignoring garbled {} ('{}')", file, text);
            return Optional.empty();
        }
        return clock.millis() < untilMillis ? Optional.of(Instant.ofEpochMilli(untilMillis)) : Optional.empty();
    }

    /** Remembers {@code host:port} as down from now for {@code down_for}; returns until when. */
    public Instant markDown(String host, int port) {
        Instant until = clock.instant().plus(downFor);
        Path file = stateFile(host, port);
        try {
            Files.createDirectories(downDir);
            Path temp = Files.createTempFile(downDir, "." + file.getFileName() + ".", ".tmp");
            try {
                Files.writeString(temp, until.toEpochMilli() + "\n", StandardCharsets.US_ASCII);
                moveAtomically(temp, file);
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            // The verdict stands; only later processes lose the shortcut and pay one timeout each.
            LOG.warn("cannot record {}:{} as down in {}: {}", host, port, file, e.toString());
        }
        return until;
    }

    /** Forgets that {@code host:port} was down (it answered). */
    public void markUp(String host, int port) {
        Path file = stateFile(host, port);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("cannot clear down-host record {}: {}", file, e.toString());
        }
    }

    /** The memory file of one endpoint. */
    Path stateFile(String host, int port) {
        if (host == null || !HOST.matcher(host).matches() || port < 1 || port > 65535) {
            throw new IllegalArgumentException("not a host and port: '" + host + "', " + port);
        }
        return downDir.resolve(host + "_" + port);
    }

    /** One TCP connect; returns null when it was accepted, else what went wrong. */
    private static String probe(String host, int port, Duration connectTimeout) {
        // Socket.connect treats 0 as "wait forever": never let rounding produce it.
        int timeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            return "cannot resolve host name '" + host + "'";
        }
        try (Socket socket = new Socket()) {
            socket.connect(address, timeoutMillis);
            return null;
        } catch (SocketTimeoutException e) {
            return "no answer within " + timeoutMillis + " ms";
        } catch (ConnectException e) {
            return "connection refused" + detail(e, "Connection refused");
        } catch (NoRouteToHostException e) {
            return "no route to host";
        } catch (IOException e) {
            return "connect failed: " + e.getMessage();
        }
    }

    private static String detail(IOException e, String usual) {
        String message = e.getMessage();
        return message == null || message.startsWith(usual) ? "" : " (" + message + ")";
    }

    private static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            // Same folder, so this only happens on exotic file systems; a plain replace is still short.
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}

// The ZFS operations zpitr needs, over the zfs command line of zfs-fuse or OpenZFS 2.x.
package io.zpitr.zfs;

import io.zpitr.process.Command;
import io.zpitr.process.KillSwitch;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * ZFS, through its command line. Every call is one {@code zfs} process started by the
 * {@link ProcessRunner} (argv list, no shell, time limit); every name is a validated value object,
 * so nothing unchecked reaches the command line. A failed command raises a {@link ZfsException},
 * typed where the message is known.
 *
 * <p>Idempotent where an operator expects it: holding a tag that is held, or releasing one that is
 * not, succeeds. Destroying retries the transient "dataset is busy" that zfs-fuse reports for about
 * a second after an unmount. Thread-safe.
 */
public final class Zfs {
    /** Kinds of dataset for {@link #list}. */
    public enum Type {
        FILESYSTEM,
        VOLUME,
        SNAPSHOT
    }

    private static final Pattern NATIVE_PROPERTY = Pattern.compile("[a-z][a-z0-9_]*");
    private static final Duration BUSY_RETRY_FOR = Duration.ofSeconds(15);

    private final ProcessRunner runner;
    private final String binary;
    private final ZfsDialect dialect;
    private final ZfsLauncher launcher;

    public Zfs(ProcessRunner runner, String binary, ZfsDialect dialect) {
        this(runner, binary, dialect, ZfsLauncher.LOCAL);
    }

    /** A driver whose commands start through {@code launcher} (e.g. over SSH on a replication target). */
    public Zfs(ProcessRunner runner, String binary, ZfsDialect dialect, ZfsLauncher launcher) {
        this.runner = Objects.requireNonNull(runner);
        this.binary = Objects.requireNonNull(binary);
        this.dialect = Objects.requireNonNull(dialect);
        this.launcher = Objects.requireNonNull(launcher);
    }

    /** Asks the binary which ZFS it is ({@code zfs version}) and returns a driver for that dialect. */
    public static Zfs detect(ProcessRunner runner, String binary) {
        return detect(runner, binary, ZfsLauncher.LOCAL);
    }

    /** As {@link #detect(ProcessRunner, String)}, on the machine {@code launcher} reaches. */
    public static Zfs detect(ProcessRunner runner, String binary, ZfsLauncher launcher) {
        List<String> argv = List.of(binary, "version");
        ProcessResult probe =
                rebased(argv, runner.run(Command.of(launcher.argv(argv)).timeout(Duration.ofSeconds(30))));
        return new Zfs(runner, binary, ZfsDialect.fromVersionProbe(probe), launcher);
    }

    public ZfsDialect dialect() {
        return dialect;
    }

    // ---------------------------------------------------------------- listing and properties

    /**
     * Lists {@code root} (and, if {@code recursive}, everything below it) of the given types, with
     * exact values of the given properties. One {@code zfs} process per call, whatever the count.
     *
     * @throws ZfsException.NoSuchDatasetException if {@code root} does not exist
     */
    public List<ZfsEntry> list(DatasetName root, boolean recursive, Set<Type> types, List<String> properties) {
        List<String> props = checkedProperties(properties);
        // Without recursion, depth 1 and a name filter give the root and its own snapshots alike on both dialects.
        List<String> depth = recursive ? List.of("-r") : List.of("-d", "1");
        List<ZfsEntry> entries;
        if (dialect.parsableList()) {
            entries = parseList(
                    zfs(concat(
                                    List.of(
                                            binary,
                                            "list",
                                            "-H",
                                            "-p",
                                            "-o",
                                            "name,type" + (props.isEmpty() ? "" : "," + String.join(",", props)),
                                            "-t",
                                            typeList(types)),
                                    depth,
                                    List.of(root.full())))
                            .stdout(),
                    props);
        } else {
            // zfs-fuse: `zfs list` has no -p and `zfs get` has no -t, so get every row and filter by type.
            Set<String> asked = new LinkedHashSet<>(props);
            asked.add("type");
            Set<String> wanted =
                    types.stream().map(t -> t.name().toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
            entries = parseGet(zfs(concat(
                                    List.of(binary, "get", "-H", "-p"),
                                    depth,
                                    List.of("-o", "name,property,value,source", String.join(",", asked), root.full())))
                            .stdout())
                    .stream()
                    .filter(e -> wanted.contains(e.type()))
                    .map(e -> new ZfsEntry(
                            e.name(),
                            e.type(),
                            props.contains("type") ? e.properties() : without(e.properties(), "type")))
                    .toList();
        }
        if (recursive) {
            return entries;
        }
        return entries.stream()
                .filter(e -> e.name().equals(root.full()) || e.name().startsWith(root.full() + "@"))
                .toList();
    }

    /** Snapshots of {@code root} (and below it, if recursive), with the given exact properties. */
    public List<ZfsEntry> listSnapshots(DatasetName root, boolean recursive, List<String> properties) {
        return list(root, recursive, Set.of(Type.SNAPSHOT), properties);
    }

    /** True if the dataset or snapshot exists. */
    public boolean exists(ZfsName name) {
        ProcessResult r = run(List.of(binary, "get", "-H", "-o", "value", "type", name.full()));
        if (r.succeeded()) {
            return true;
        }
        ZfsException e = ZfsErrors.classify(r);
        if (e instanceof ZfsException.NoSuchDatasetException) {
            return false;
        }
        throw e;
    }

    /**
     * The exact value of one property ({@code zfs get -H -p}); empty when a user property is not
     * set (source "-").
     */
    public Optional<String> get(ZfsName name, String property) {
        String prop = checkedProperties(List.of(property)).get(0);
        String out = zfs(List.of(binary, "get", "-H", "-p", "-o", "value,source", prop, name.full()))
                .stdout();
        String line = out.lines().findFirst().orElse("");
        int tab = line.lastIndexOf('\t');
        String value = tab < 0 ? line : line.substring(0, tab);
        String source = tab < 0 ? "" : line.substring(tab + 1);
        if (isUserProperty(prop) && "-".equals(source)) {
            return Optional.empty();
        }
        return Optional.of(value);
    }

    /** Sets a user property ({@code module:name}); the value may not contain control characters. */
    public void setUserProperty(ZfsName name, String property, String value) {
        UserProperty.checkName(property);
        UserProperty.checkValue(property, value);
        zfs(List.of(binary, "set", property + "=" + value, name.full()));
    }

    /**
     * Sets user properties, in order, on several datasets or snapshots: one {@code zfs set} call
     * where the dialect takes several properties at once, else one call per property (each still
     * covering every name). Over ssh, each call is a round trip: few calls matter.
     */
    public void setUserProperties(List<? extends ZfsName> names, Map<String, String> properties) {
        if (names.isEmpty() || properties.isEmpty()) {
            return;
        }
        List<String> assignments = new ArrayList<>();
        properties.forEach((k, v) -> {
            UserProperty.checkName(k);
            UserProperty.checkValue(k, v);
            assignments.add(k + "=" + v);
        });
        List<List<String>> calls = dialect.multiPropertySet()
                ? List.of(assignments)
                : assignments.stream().map(List::of).toList();
        List<List<String>> argvs = new ArrayList<>();
        for (List<String> call : calls) {
            List<String> argv = new ArrayList<>(List.of(binary, "set"));
            argv.addAll(call);
            names.forEach(n -> argv.add(n.full()));
            argvs.add(argv);
        }
        // zfs-fuse takes one property per call: over ssh, one session for all of them rather than one each.
        Optional<List<String>> together = argvs.size() > 1 ? launcher.argvOfSequence(argvs) : Optional.empty();
        if (together.isEmpty()) {
            argvs.forEach(this::zfs);
            return;
        }
        List<String> shown = new ArrayList<>();
        for (List<String> argv : argvs) {
            if (!shown.isEmpty()) {
                shown.add("&&");
            }
            shown.addAll(argv);
        }
        ProcessResult r = rebased(shown, runner.run(Command.of(together.get())));
        if (!r.succeeded()) {
            throw ZfsErrors.classify(r);
        }
    }

    /** Sets a native property such as {@code readonly} or {@code canmount}. */
    public void setProperty(ZfsName name, String property, String value) {
        checkedProperties(List.of(property));
        UserProperty.checkValue(property, value);
        zfs(List.of(binary, "set", property + "=" + value, name.full()));
    }

    /** Removes a user property ({@code zfs inherit}). */
    public void clearUserProperty(ZfsName name, String property) {
        UserProperty.checkName(property);
        zfs(List.of(binary, "inherit", property, name.full()));
    }

    // ---------------------------------------------------------------- create, snapshot, clone

    /** Creates a filesystem, with its parents if asked; properties are set at creation. */
    public void create(DatasetName name, Map<String, String> properties, boolean createParents) {
        List<String> argv = new ArrayList<>(List.of(binary, "create"));
        if (createParents) {
            argv.add("-p");
        }
        argv.addAll(propertyOptions(properties));
        argv.add(name.full());
        zfs(argv);
    }

    /**
     * Snapshots every dataset under one short name, atomically where the ZFS allows:
     * <ol>
     * <li>one dataset: a plain snapshot;</li>
     * <li>OpenZFS: one {@code zfs snapshot a@s b@s ...} call (one transaction group);</li>
     * <li>zfs-fuse: a recursive snapshot of the datasets' deepest common ancestor, if that ancestor
     * has no descendants outside the set (an unwanted ancestor snapshot is destroyed afterwards);</li>
     * <li>otherwise one after the other, first dataset first, reported as
     * {@link SnapshotSetResult.Atomicity#ORDERED}. If one fails, those made are destroyed.</li>
     * </ol>
     * User properties are set at creation, on every snapshot of the set.
     */
    public SnapshotSetResult snapshotSet(
            List<DatasetName> datasets, String shortName, Map<String, String> userProperties) {
        if (datasets.isEmpty()) {
            throw new IllegalArgumentException("no datasets to snapshot");
        }
        if (new LinkedHashSet<>(datasets).size() != datasets.size()) {
            throw new IllegalArgumentException("a dataset is listed twice: " + datasets);
        }
        SnapshotName.checkShortName(shortName);
        for (String key : userProperties.keySet()) {
            UserProperty.checkName(key);
        }
        List<String> props = propertyOptions(userProperties);
        List<SnapshotName> names =
                datasets.stream().map(d -> d.snapshot(shortName)).toList();
        if (datasets.size() == 1) {
            zfs(concat(List.of(binary, "snapshot"), props, List.of(names.get(0).full())));
            return new SnapshotSetResult(names, SnapshotSetResult.Atomicity.ATOMIC, "single dataset");
        }
        if (dialect.multiSnapshot()) {
            zfs(concat(
                    List.of(binary, "snapshot"),
                    props,
                    names.stream().map(SnapshotName::full).toList()));
            return new SnapshotSetResult(names, SnapshotSetResult.Atomicity.ATOMIC, "one multi-name zfs snapshot");
        }
        Optional<DatasetName> ancestor = commonAncestor(datasets);
        if (ancestor.isPresent()) {
            DatasetName top = ancestor.get();
            Set<String> subtree = list(top, true, Set.of(Type.FILESYSTEM, Type.VOLUME), List.of()).stream()
                    .map(ZfsEntry::name)
                    .collect(Collectors.toCollection(LinkedHashSet::new));
            datasets.forEach(d -> subtree.remove(d.full()));
            boolean topIsExtra = subtree.remove(top.full());
            if (subtree.isEmpty()) {
                zfs(concat(
                        List.of(binary, "snapshot", "-r"),
                        props,
                        List.of(top.snapshot(shortName).full())));
                if (topIsExtra) {
                    destroy(top.snapshot(shortName));
                }
                return new SnapshotSetResult(names, SnapshotSetResult.Atomicity.ATOMIC, "recursive snapshot of " + top);
            }
        }
        List<SnapshotName> made = new ArrayList<>();
        try {
            for (SnapshotName name : names) {
                zfs(concat(List.of(binary, "snapshot"), props, List.of(name.full())));
                made.add(name);
            }
        } catch (ZfsException e) {
            for (SnapshotName done : made) {
                try {
                    destroy(done);
                } catch (ZfsException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        }
        return new SnapshotSetResult(names, SnapshotSetResult.Atomicity.ORDERED, "ordered, first dataset first");
    }

    /**
     * Clones a snapshot. O(1) in the data size: nothing is copied.
     *
     * @param mountpoint where to mount it, or {@code null} to inherit
     */
    public void clone(SnapshotName origin, DatasetName target, Path mountpoint, Map<String, String> properties) {
        Map<String, String> all = new LinkedHashMap<>();
        if (mountpoint != null) {
            all.put("mountpoint", checkedMountpoint(mountpoint));
        }
        all.putAll(properties);
        zfs(concat(List.of(binary, "clone"), propertyOptions(all), List.of(origin.full(), target.full())));
    }

    /** Rolls a dataset back to a snapshot; {@code destroyNewer} permits discarding later snapshots. */
    public void rollback(SnapshotName snapshot, boolean destroyNewer) {
        List<String> argv = new ArrayList<>(List.of(binary, "rollback"));
        if (destroyNewer) {
            argv.add("-r");
        }
        argv.add(snapshot.full());
        zfs(argv);
    }

    // ---------------------------------------------------------------- destroy

    /**
     * Destroys a filesystem or volume (and, if {@code recursive}, its children and snapshots),
     * retrying "dataset is busy" for a while.
     */
    public void destroy(DatasetName dataset, boolean recursive) {
        List<String> argv = new ArrayList<>(List.of(binary, "destroy"));
        if (recursive) {
            argv.add("-r");
        }
        argv.add(dataset.full());
        destroyRetryingBusy(argv, null);
    }

    /**
     * Destroys one snapshot.
     *
     * @throws ZfsException.SnapshotHeldException    if it has user holds
     * @throws ZfsException.DependentClonesException if clones of it exist
     */
    public void destroy(SnapshotName snapshot) {
        destroyRetryingBusy(List.of(binary, "destroy", snapshot.full()), snapshot);
    }

    private void destroyRetryingBusy(List<String> argv, SnapshotName snapshot) {
        long deadline = System.nanoTime() + BUSY_RETRY_FOR.toNanos();
        long pause = 100;
        while (true) {
            ProcessResult r = run(argv);
            if (r.succeeded()) {
                return;
            }
            ZfsException e = ZfsErrors.classify(r);
            if (!(e instanceof ZfsException.DatasetBusyException)) {
                throw e;
            }
            // A held snapshot says "dataset is busy" too; that one never clears by waiting.
            if (snapshot != null && holdCount(snapshot) > 0) {
                throw new ZfsException.SnapshotHeldException(
                        "cannot destroy " + snapshot + ": it has user holds"
                                + "\nHINT: zpitr release the snapshot set first, if the hold may end",
                        argv,
                        r.exitCode(),
                        r.stderr());
            }
            if (System.nanoTime() > deadline) {
                throw e;
            }
            sleep(pause);
            pause = Math.min(pause * 2, 1000);
        }
    }

    // ---------------------------------------------------------------- holds

    /** Places a user hold; holding a tag that is already held succeeds. */
    public void hold(SnapshotName snapshot, HoldTag tag) {
        ProcessResult r = run(List.of(binary, "hold", tag.value(), snapshot.full()));
        if (!r.succeeded() && !r.stderr().contains("tag already exists on this dataset")) {
            throw ZfsErrors.classify(r);
        }
    }

    /** Releases a user hold; releasing a tag that is not held succeeds. */
    public void release(SnapshotName snapshot, HoldTag tag) {
        ProcessResult r = run(List.of(binary, "release", tag.value(), snapshot.full()));
        if (!r.succeeded() && !r.stderr().contains("no such tag on this dataset")) {
            throw ZfsErrors.classify(r);
        }
    }

    /** The number of user holds ({@code userrefs}); works on every dialect. */
    public int holdCount(SnapshotName snapshot) {
        return Integer.parseInt(get(snapshot, "userrefs").orElse("0"));
    }

    /**
     * The tags held on a snapshot.
     *
     * @throws ZfsException.FeatureUnavailableException on zfs-fuse, whose {@code zfs holds} needs a
     *         helper Debian does not ship; use {@link #holdCount} there
     */
    public List<Hold> holds(SnapshotName snapshot) {
        if (!dialect.holdsListing()) {
            throw new ZfsException.FeatureUnavailableException("this ZFS (" + dialect + ") cannot list hold tags");
        }
        return parseHolds(zfs(List.of(binary, "holds", "-H", snapshot.full())).stdout());
    }

    // ---------------------------------------------------------------- send and receive

    /** Writes a full (or, with {@code from}, incremental) send stream of {@code snapshot} to {@code out}. */
    public void send(SnapshotName snapshot, SnapshotName from, OutputStream out) {
        send(snapshot, from, out, new KillSwitch());
    }

    private void send(SnapshotName snapshot, SnapshotName from, OutputStream out, KillSwitch kill) {
        List<String> argv = new ArrayList<>(List.of(binary, "send"));
        if (from != null) {
            argv.addAll(List.of("-i", from.full()));
        }
        argv.add(snapshot.full());
        streaming(
                argv,
                Command.of(launcher.argv(argv))
                        .timeout(Duration.ZERO)
                        .stdoutTo(out)
                        .killSwitch(kill));
    }

    /** Receives a send stream into {@code target}; {@code force} rolls it back first ({@code -F}). */
    public void receive(DatasetName target, InputStream in, boolean force) {
        receive(target, in, force, false, new KillSwitch());
    }

    private void receive(DatasetName target, InputStream in, boolean force, boolean unmounted, KillSwitch kill) {
        List<String> argv = new ArrayList<>(List.of(binary, "receive"));
        if (force) {
            argv.add("-F");
        }
        if (unmounted && dialect.receiveUnmounted()) {
            argv.add("-u");
        }
        argv.add(target.full());
        streaming(
                argv,
                Command.of(launcher.argv(argv))
                        .timeout(Duration.ZERO)
                        .stdinFrom(in)
                        .killSwitch(kill));
    }

    private void streaming(List<String> zfsArgv, Command command) {
        ProcessResult r = rebased(zfsArgv, runner.run(command));
        if (!r.succeeded()) {
            throw ZfsErrors.classify(r);
        }
    }

    /**
     * Sends {@code snapshot} (incrementally from {@code from} if given) straight into a receive on
     * {@code target}, through an in-process pipe rather than a shell pipeline.
     */
    public void sendTo(SnapshotName snapshot, SnapshotName from, Zfs receiver, DatasetName target, boolean force) {
        sendTo(snapshot, from, receiver, target, force, false);
    }

    /**
     * As {@link #sendTo(SnapshotName, SnapshotName, Zfs, DatasetName, boolean)}; {@code unmounted}
     * asks the receiver not to mount what it receives ({@code -u}) where its dialect can (zfs-fuse
     * cannot: there the received dataset mounts below its parent's mountpoint). Returns the bytes
     * of the stream. When the receive ends first (its host died, say), the send is killed rather
     * than left blocked on a pipe nobody reads.
     */
    public long sendTo(
            SnapshotName snapshot,
            SnapshotName from,
            Zfs receiver,
            DatasetName target,
            boolean force,
            boolean unmounted) {
        // A pipe of the kernel's, not PipedInputStream: that one hands its buffer over only when it is
        // full or after a 1 s poll, so sender and receiver took turns instead of running together.
        InputStream in;
        CountingOutputStream out;
        try {
            java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
            in = java.nio.channels.Channels.newInputStream(pipe.source());
            out = new CountingOutputStream(java.nio.channels.Channels.newOutputStream(pipe.sink()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        KillSwitch sendKill = new KillSwitch();
        java.util.concurrent.atomic.AtomicBoolean receiveEnded = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean sendFailedFirst = new java.util.concurrent.atomic.AtomicBoolean();
        CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
            try (out) {
                send(snapshot, from, out, sendKill);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                sendFailedFirst.set(!receiveEnded.get());
                throw e;
            }
        });
        RuntimeException receiveFailure = null;
        try (in) {
            receiver.receive(target, in, force, unmounted, new KillSwitch());
        } catch (RuntimeException | IOException e) {
            receiveEnded.set(true);
            receiveFailure = e instanceof RuntimeException re ? re : new UncheckedIOException((IOException) e);
            sendKill.kill("the receive into " + target + " ended first");
        }
        RuntimeException sendFailure = null;
        try {
            sending.get();
        } catch (ExecutionException e) {
            sendFailure = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending " + snapshot, e);
        }
        if (receiveFailure != null && (sendFailure == null || !sendFailedFirst.get())) {
            // The receive failed first (its host died, say) and the send was stopped for it: the receive's error is the
            // story.
            throw receiveFailure;
        }
        if (sendFailure != null) {
            // The send's own error explains a broken receive better than "unexpected end of stream".
            if (receiveFailure != null) {
                sendFailure.addSuppressed(receiveFailure);
            }
            throw sendFailure;
        }
        return out.count();
    }

    /** Counts what passes through, for the bytes a replication sent. */
    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        private volatile long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        long count() {
            return count;
        }
    }

    // ---------------------------------------------------------------- parsing (package-private for tests)

    /** Parses {@code zfs list -H -p -o name,type,PROPS}. */
    static List<ZfsEntry> parseList(String stdout, List<String> props) {
        List<ZfsEntry> entries = new ArrayList<>();
        for (String line : stdout.lines().toList()) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 2 + props.size()) {
                throw new IllegalStateException("unexpected zfs list line (" + f.length + " fields, expected "
                        + (2 + props.size()) + "): " + line);
            }
            Map<String, String> values = new LinkedHashMap<>();
            for (int i = 0; i < props.size(); i++) {
                putValue(values, props.get(i), f[2 + i], null);
            }
            entries.add(new ZfsEntry(f[0], f[1], values));
        }
        return entries;
    }

    /** Parses {@code zfs get -H -p -o name,property,value,source}, grouping rows by name in order. */
    static List<ZfsEntry> parseGet(String stdout) {
        Map<String, Map<String, String>> byName = new LinkedHashMap<>();
        for (String line : stdout.lines().toList()) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 4) {
                throw new IllegalStateException(
                        "unexpected zfs get line (" + f.length + " fields, expected 4): " + line);
            }
            putValue(byName.computeIfAbsent(f[0], k -> new LinkedHashMap<>()), f[1], f[2], f[3]);
        }
        List<ZfsEntry> entries = new ArrayList<>();
        byName.forEach((name, values) -> entries.add(new ZfsEntry(name, values.getOrDefault("type", ""), values)));
        return entries;
    }

    /** Parses {@code zfs holds -H}: name, tag, timestamp. */
    static List<Hold> parseHolds(String stdout) {
        List<Hold> holds = new ArrayList<>();
        for (String line : stdout.lines().toList()) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 3) {
                throw new IllegalStateException("unexpected zfs holds line: " + line);
            }
            holds.add(new Hold(SnapshotName.parse(f[0].strip()), f[1].strip(), f[2].strip()));
        }
        return holds;
    }

    private static void putValue(Map<String, String> values, String property, String value, String source) {
        // An unset user property prints "-" (with source "-" where a source is shown).
        boolean unsetUser = isUserProperty(property) && "-".equals(value) && (source == null || "-".equals(source));
        if (!unsetUser) {
            values.put(property, value);
        }
    }

    // ---------------------------------------------------------------- plumbing

    private ProcessResult zfs(List<String> argv) {
        ProcessResult r = run(argv);
        if (!r.succeeded()) {
            throw ZfsErrors.classify(r);
        }
        return r;
    }

    private ProcessResult run(List<String> argv) {
        return rebased(argv, runner.run(Command.of(launcher.argv(argv))));
    }

    /** The result as if {@code zfsArgv} had run itself: errors name the zfs command, not its ssh wrapper. */
    private static ProcessResult rebased(List<String> zfsArgv, ProcessResult r) {
        return new ProcessResult(zfsArgv, r.exitCode(), r.stdout(), r.stderr(), r.stderrTruncated(), r.duration());
    }

    /** Where this driver's commands run: {@code this machine}, or the replication target's description. */
    public String where() {
        return launcher.toString();
    }

    private static boolean isUserProperty(String property) {
        return property.indexOf(':') >= 0;
    }

    private static List<String> checkedProperties(List<String> properties) {
        for (String p : properties) {
            if (!(isUserProperty(p)
                    ? p.equals(UserProperty.checkName(p))
                    : NATIVE_PROPERTY.matcher(p).matches())) {
                throw new InvalidNameException("property", p, "expected a native property or module:property");
            }
        }
        return List.copyOf(new LinkedHashSet<>(properties));
    }

    private static List<String> propertyOptions(Map<String, String> properties) {
        List<String> options = new ArrayList<>();
        properties.forEach((k, v) -> {
            checkedProperties(List.of(k));
            UserProperty.checkValue(k, v);
            options.add("-o");
            options.add(k + "=" + v);
        });
        return options;
    }

    private static String checkedMountpoint(Path mountpoint) {
        if (!mountpoint.isAbsolute() || !mountpoint.normalize().equals(mountpoint)) {
            throw new IllegalArgumentException("mountpoint must be an absolute path without . or .. : " + mountpoint);
        }
        String s = mountpoint.toString();
        UserProperty.checkValue("mountpoint", s);
        return s;
    }

    private static String typeList(Set<Type> types) {
        if (types.isEmpty()) {
            throw new IllegalArgumentException("no dataset types to list");
        }
        return types.stream()
                .sorted()
                .map(t -> t.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(","));
    }

    private static Optional<DatasetName> commonAncestor(List<DatasetName> datasets) {
        Optional<DatasetName> common = Optional.of(datasets.get(0));
        for (DatasetName d : datasets.subList(1, datasets.size())) {
            common = common.flatMap(c -> c.commonAncestor(d));
        }
        return common;
    }

    private static Map<String, String> without(Map<String, String> values, String key) {
        if (key == null || !values.containsKey(key)) {
            return values;
        }
        Map<String, String> copy = new LinkedHashMap<>(values);
        copy.remove(key);
        return copy;
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> p : parts) {
            all.addAll(p);
        }
        return all;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}

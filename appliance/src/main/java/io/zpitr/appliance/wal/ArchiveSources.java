// Builds the configured archive sources, in order, for one fetcher.
package io.zpitr.appliance.wal;

import io.zpitr.appliance.config.Settings;
import io.zpitr.archive.LocalDirectorySource;
import io.zpitr.archive.WalSource;
import java.util.ArrayList;
import java.util.List;

/** Turns {@code archive.sources} into {@link WalSource}s, in the configured order. */
public final class ArchiveSources {
    private ArchiveSources() {}

    public static List<WalSource> open(Settings settings) {
        List<WalSource> sources = new ArrayList<>();
        for (Settings.Source s : settings.archive().sources()) {
            switch (s.type()) {
                case "local" -> sources.add(new LocalDirectorySource(s.name(), s.path()));
                case "ssh" -> sources.add(SshSources.open(settings, s));
                default -> throw new IllegalStateException("unknown source type " + s.type());
            }
        }
        return sources;
    }

    /**
     * The sources a restore (or drill) reads: the WAL mirror first when {@code archive.mirror_dir}
     * is set ({@link WalMirror}), then the configured sources in order.
     */
    public static List<WalSource> forRestore(Settings settings) {
        List<WalSource> sources = new ArrayList<>();
        WalMirror.of(settings).ifPresent(m -> sources.add(m.source()));
        sources.addAll(open(settings));
        return sources;
    }
}

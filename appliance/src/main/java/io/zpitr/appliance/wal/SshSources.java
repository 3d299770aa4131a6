// Builds an SSH archive source from its configuration entry, sharing the down-host memory.
package io.zpitr.appliance.wal;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.Settings;
import io.zpitr.archive.HostReachability;
import io.zpitr.archive.SshHostConfig;
import io.zpitr.archive.SshSource;
import io.zpitr.process.ProcessRunner;
import java.time.Clock;

/** Maps an {@code archive.sources[]} entry of type ssh to an {@link SshSource}. */
final class SshSources {
    private SshSources() {}

    static SshSource open(Settings settings, Settings.Source s) {
        SshHostConfig config;
        try {
            config = new SshHostConfig(
                    s.name(),
                    s.host(),
                    s.port(),
                    s.user(),
                    s.remotePath(),
                    s.identityFile(),
                    s.knownHosts(),
                    s.transports().stream().map(SshHostConfig.Transport::parse).toList(),
                    settings.archive().connectTimeout(),
                    settings.archive().ioTimeout());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("config " + settings.file() + ": " + e.getMessage(), e);
        }
        HostReachability reachability =
                new HostReachability(settings.stateDir(), settings.archive().downFor(), Clock.systemUTC());
        return new SshSource(
                config, reachability, new ProcessRunner(), settings.archive().spoolDir());
    }
}

// A configuration that cannot be used: exit status 2, nothing done.
package io.zpitr.appliance.config;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.error.ZpitrException;

/**
 * The configuration file is missing, unreadable, malformed, names something invalid, or lacks a
 * key the command needs: catalog entry {@link ZpitrError#CONFIG_INVALID}.
 */
public class ConfigException extends ZpitrException {
    public ConfigException(String message) {
        super(ZpitrError.CONFIG_INVALID, message);
    }

    public ConfigException(String message, Throwable cause) {
        super(ZpitrError.CONFIG_INVALID, message, cause);
    }
}

// A configuration that cannot be used: exit status 2, nothing done.
package io.zpitr.appliance.config;

/** The configuration file is missing, unreadable, malformed or names something invalid. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}

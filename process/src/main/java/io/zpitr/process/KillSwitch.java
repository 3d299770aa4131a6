// Lets one thread end a command that another thread is running (a zfs send whose receiver died).
package io.zpitr.process;

/**
 * A handle to end a running command early. A command that streams with no time limit (a
 * {@code zfs send} into a pipe) can block forever writing to a reader that has gone: whoever
 * notices the reader's end calls {@link #kill}, and the runner's {@code run} then ends with a
 * {@link ProcessException} saying why. Killing before the command starts ends it as soon as it
 * does; killing after it ended does nothing. Thread-safe.
 */
public final class KillSwitch {
    private Runnable killer;
    private String reason;

    /** Ends the command (SIGKILL to the process), naming why in the runner's exception. */
    public void kill(String why) {
        Runnable k;
        synchronized (this) {
            if (reason != null) {
                return;
            }
            reason = why;
            k = killer;
        }
        if (k != null) {
            k.run();
        }
    }

    /** Why it was killed, or null. */
    public synchronized String reason() {
        return reason;
    }

    /** Called by the runner once the process exists; runs {@code killer} at once if kill came first. */
    void arm(Runnable processKiller) {
        boolean now;
        synchronized (this) {
            killer = processKiller;
            now = reason != null;
        }
        if (now) {
            // The process starts only after arm() returns: kill it from another thread once it has.
            Thread t = new Thread(processKiller, "kill-switch");
            t.setDaemon(true);
            t.start();
        }
    }
}

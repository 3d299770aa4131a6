// How the demo talks: a numbered step with its reason, then what happened, then commands and their output.
package io.zpitr.appliance.demo;

import java.io.PrintWriter;

/**
 * The demo's voice, in the tutorial style the README promises: before each step one or two
 * sentences on what and why; after it the facts; a zpitr command as the user would type it, with
 * its output indented below.
 */
final class Narration {
    private final PrintWriter out;

    Narration(PrintWriter out) {
        this.out = out;
    }

    /** A new step: its title and why it matters. */
    void step(String title, String... why) {
        out.println();
        out.println("== " + title);
        for (String line : why) {
            out.println("   " + line);
        }
        out.flush();
    }

    /** One line of narration. */
    void say(String line) {
        out.println("   " + line);
        out.flush();
    }

    /** A command line as the user would type it. */
    void command(String line) {
        out.println("   $ " + line);
        out.flush();
    }

    /** A command's output (or a file's lines), indented under it. */
    void block(String text) {
        // Leading blanks of the first line are kept: psql's header starts with one.
        for (String line : text.replaceAll("^\\s*\n", "").stripTrailing().split("\n", -1)) {
            out.println("     " + line);
        }
        out.flush();
    }

    PrintWriter out() {
        return out;
    }
}

// Test support: one zpitr command line run in-process, with what it printed and its exit code.
package io.zpitr.appliance.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;

/** The outcome of {@code zpitr --config CONFIG ARGS...} run through {@link Main#run}. */
public record ZpitrRun(int code, String out, String err) {

    /** Runs {@code zpitr --config config args...} in this JVM. */
    public static ZpitrRun withConfig(Path config, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--config";
        all[1] = config.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new ZpitrRun(code, out.toString(), err.toString());
    }

    /** This run, if it exited 0; otherwise an AssertionError with its exit code and everything it printed. */
    public ZpitrRun assertSucceeded() {
        if (code != 0) {
            throw new AssertionError("exit " + code + "\nstdout:\n" + out + "\nstderr:\n" + err);
        }
        return this;
    }

    /** The last line printed to stdout (a snapshot's id, say). */
    public String lastLine() {
        List<String> lines = out.lines().toList();
        return lines.get(lines.size() - 1);
    }
}

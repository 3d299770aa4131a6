// `zpitr report`: the auditor's report, as one self-contained HTML page or as JSON.
package io.zpitr.appliance.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.report.AuditorReport;
import io.zpitr.appliance.report.ReportHtml;
import io.zpitr.appliance.report.ReportJson;
import io.zpitr.appliance.report.ReportService;
import io.zpitr.archive.AtomicLanding;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Reads only; the HTML file lands whole or not at all. Field names: docs/report.md. */
@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        description = {
            "The auditor's report: snapshot sets along time by retention class, holds, drills, the recoverable",
            "window and its gaps, archive hosts, the audit log's verification and head hash.",
            "--html FILE writes one self-contained page (inline CSS and SVG); --format json prints the same data."
        })
final class ReportCommand implements Callable<Integer> {
    enum Format {
        text,
        json
    }

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--html", paramLabel = "FILE", description = "Write the report as an HTML page to FILE.")
    Path html;

    @Option(names = "--format", description = "json: print the report's data as JSON.")
    Format format = Format.text;

    @Override
    public Integer call() throws Exception {
        if (html == null && format != Format.json) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "say where the report goes: --html FILE or --format json");
        }
        Path target = html == null ? null : html.toAbsolutePath().normalize();
        if (target != null) {
            requireWritable(target);
        }
        AuditorReport report = new ReportService(main.appliance()).build();
        PrintWriter out = spec.commandLine().getOut();
        if (target != null) {
            Path temp = AtomicLanding.tempFileBeside(target);
            Files.writeString(temp, ReportHtml.render(report), StandardCharsets.UTF_8);
            AtomicLanding.land(temp, target);
            if (format != Format.json) {
                out.println("wrote " + target + " (" + report.sets().size() + " set(s), "
                        + report.drills().size() + " drill(s), " + report.gaps().size() + " gap(s); audit chain "
                        + (report.audit().intact() ? "intact" : "BROKEN") + ")");
            }
        }
        if (format == Format.json) {
            out.println(new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(ReportJson.fields(report)));
        }
        out.flush();
        return Main.OK;
    }

    /** Checked before anything is gathered: a report that cannot be written is refused at once. */
    private static void requireWritable(Path target) {
        Path folder = target.getParent();
        if (Files.isDirectory(target)) {
            throw ZpitrError.INVALID_ARGUMENT.exception("--html " + target + " is a folder\nHINT: name a file, e.g. "
                    + target.resolve("zpitr-report.html"));
        }
        if (folder == null || !Files.isDirectory(folder) || !Files.isWritable(folder)) {
            throw ZpitrError.INVALID_ARGUMENT.exception("cannot write the report to " + target + ": its folder "
                    + (folder != null && Files.isDirectory(folder) ? "is not writable" : "does not exist")
                    + "\nHINT: choose a file in a folder that exists and you can write to");
        }
        if (Files.exists(target) && !Files.isWritable(target)) {
            throw ZpitrError.INVALID_ARGUMENT.exception("cannot write the report to " + target
                    + ": the file is not writable" + "\nHINT: choose another file, or remove this one");
        }
    }
}

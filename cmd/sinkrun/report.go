package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sinkrun/sinkrun/internal/atomicfile"
	"github.com/sinkrun/sinkrun/results"
)

// cmdReport writes the study sections of docs/results.md from a results
// directory and the expect blocks of the studies.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report", "DIR FILES... [flags]",
		"Write, for each experiment in FILES, its study table (mean ± sd over seeds of each grid cell) and its claims\n"+
			"with their verdicts and the agreement they add up to, from the Parquet results under DIR. Without --doc the\n"+
			"sections go to standard output, between the markers that --doc looks for; with --doc FILE each experiment's\n"+
			"marked section of FILE is replaced and the rest of FILE is kept:\n"+
			"  <!-- begin sinkrun report: NAME -->\n  ...\n  <!-- end sinkrun report: NAME -->\n"+
			"With --summary NAME it writes instead one section NAME: a table with a row per experiment (the agreement its\n"+
			"claims add up to, its runs finished) and a row of totals, for a page that sums a catalogue up.\n"+
			"With --emergence it writes instead each experiment's section \"NAME emergence\": per grid cell, the tokens seen,\n"+
			"Sink_1 and the strongest head's alpha_1 at 1/8, 1/4, 1/2 and the end of the run, the strongest head of each\n"+
			"layer at the end and the validation loss (means over seeds).", stderr)
	doc := fs.String("doc", "", "rewrite the marked sections of this Markdown file (e.g. docs/results.md)")
	summary := fs.String("summary", "", "write one summary table over the experiments, as the section `NAME`, instead of a section each")
	emergence := fs.Bool("emergence", false, "write each experiment's emergence section (`NAME emergence`) instead of its study section")
	dir, exps, code := resultsAndExperiments("report", fs, args, stderr)
	if code != exitOK {
		return code
	}
	// A marker's name ends at "-->" and at the line's end: such a name
	// would write a section that no later run finds again.
	if strings.Contains(*summary, "-->") || strings.ContainsAny(*summary, "\r\n") {
		fmt.Fprintf(stderr, "sinkrun report: --summary %q: a section name cannot contain \"-->\" or a line break\n", *summary)
		return exitUsage
	}
	var reports []results.StudyReport
	var err error
	if *summary != "" && *emergence {
		fmt.Fprintln(stderr, "sinkrun report: --summary and --emergence write different sections: use one")
		return exitUsage
	}
	switch {
	case *emergence:
		reports, err = results.EmergenceReport(dir, exps)
	case *summary != "":
		var s results.StudyReport
		s, err = results.AgreementTable(*summary, dir, exps)
		reports = []results.StudyReport{s}
	default:
		reports, err = results.Report(dir, exps)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun report:", err)
		return exitError
	}
	if *doc == "" {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprint(stdout, r.Section())
		}
		return exitOK
	}
	old, err := os.ReadFile(*doc)
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun report:", err)
		return exitError
	}
	updated, missing, err := results.UpdateDoc(old, reports)
	if err != nil {
		fmt.Fprintf(stderr, "sinkrun report: %s: %v\n", *doc, err)
		return exitError
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "sinkrun report: %s has no section for %s; add its markers where the table goes:\n  <!-- begin sinkrun report: %s -->\n  <!-- end sinkrun report: %s -->\n",
			*doc, strings.Join(missing, ", "), missing[0], missing[0])
		return exitError
	}
	if err := atomicfile.WriteFile(*doc, updated, 0o644); err != nil {
		fmt.Fprintln(stderr, "sinkrun report:", err)
		return exitError
	}
	if *summary != "" {
		fmt.Fprintf(stderr, "%s: section %s written\n", *doc, *summary)
		return exitOK
	}
	what := "study"
	if *emergence {
		what = "emergence"
	}
	fmt.Fprintf(stderr, "%s: %d %s sections written\n", *doc, len(reports), what)
	return exitOK
}

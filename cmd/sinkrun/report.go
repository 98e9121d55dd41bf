package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sinkrun/sinkrun/internal/atomicfile"
	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/results/htmlreport"
)

// cmdReport writes the study sections of docs/results.md from a results
// directory and the expect blocks of the studies.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report", "DIR FILES... [flags]",
		"With --html FILE, write one self-contained HTML page of the results under DIR for the experiments in FILES, to open\n"+
			"in a browser or share (docs/results.md, \"One page per results directory\"). Otherwise, for docs pages (docs/maintainers.md):\n"+
			"write, for each experiment in FILES, its study table (mean ± sd over seeds of each grid cell) and its claims\n"+
			"with their verdicts and the agreement they add up to, from the Parquet results under DIR. Without --doc the\n"+
			"sections go to standard output, between the markers that --doc looks for; with --doc FILE each experiment's\n"+
			"marked section of FILE is replaced and the rest of FILE is kept:\n"+
			"  <!-- begin sinkrun report: NAME -->\n  ...\n  <!-- end sinkrun report: NAME -->\n"+
			"A section is kept, and named, when the new one reports fewer finished runs than the page (a results directory\n"+
			"without the study's runs would blank its table); --force replaces it anyway.\n"+
			"With --summary NAME it writes instead one section NAME: a table with a row per experiment (the agreement its\n"+
			"claims add up to, its runs finished) and a row of totals, for a page that sums a catalogue up.\n"+
			"With --emergence it writes instead each experiment's section \"NAME emergence\": per grid cell, the tokens seen,\n"+
			"Sink_1 and the strongest head's alpha_1 at 1/8, 1/4, 1/2 and the end of the run, the strongest head of each\n"+
			"layer at the end and the validation loss (means over seeds).", stderr)
	doc := fs.String("doc", "", "rewrite the marked sections of this Markdown file (e.g. docs/results.md)")
	htmlPage := fs.String("html", "", "write instead one self-contained HTML page to `FILE`: each experiment's grid and settings, its claims\nwith their verdicts, a table of every measured metric per grid cell, its figures, and its failed and diverged runs")
	force := fs.Bool("force", false, "with --doc: replace sections even where the new one reports fewer finished runs than the page")
	summary := fs.String("summary", "", "write one summary table over the experiments, as the section `NAME`, instead of a section each")
	emergence := fs.Bool("emergence", false, "write each experiment's emergence section (\"NAME emergence\") instead of its study section")
	only := experimentFlag(fs, "(its section only)")
	dir, exps, code := resultsAndExperiments("report", fs, only, args, stderr)
	if code != exitOK {
		return code
	}
	if *htmlPage != "" {
		if *doc != "" || *summary != "" || *emergence {
			fmt.Fprintln(stderr, "sinkrun report: --html writes a page of its own: not with --doc, --summary or --emergence")
			return exitUsage
		}
		if err := htmlreport.WriteFile(*htmlPage, dir, exps, htmlreport.Options{}); err != nil {
			fmt.Fprintln(stderr, "sinkrun report:", err)
			return exitError
		}
		fmt.Fprintf(stderr, "%s: %s of %s\n", *htmlPage, count(len(exps), "experiment"), dir)
		return exitOK
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
	plan, err := planDocUpdate(old, reports, *force)
	if err != nil {
		fmt.Fprintf(stderr, "sinkrun report: %s: %v\n", *doc, err)
		return exitError
	}
	if len(plan.missing) > 0 {
		fmt.Fprintf(stderr, "sinkrun report: %s has no section for %s; add its markers where the table goes:\n  <!-- begin sinkrun report: %s -->\n  <!-- end sinkrun report: %s -->\n",
			*doc, strings.Join(plan.missing, ", "), plan.missing[0], plan.missing[0])
		return exitError
	}
	if len(plan.replace) > 0 {
		updated, _, err := results.UpdateDoc(old, plan.replace)
		if err == nil {
			err = atomicfile.WriteFile(*doc, updated, 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "sinkrun report:", err)
			return exitError
		}
	}
	plan.write(stderr, *doc, dir)
	return exitOK
}

// docUpdate is what report --doc does to each section of a page.
type docUpdate struct {
	replace   []results.StudyReport // sections whose text changes
	unchanged []string
	kept      []keptSection // sections left as they are: they report more results
	missing   []string      // reports without a section in the page
}

type keptSection struct {
	name          string
	onPage, inDir int // finished runs in the page's section and in the new one
}

// planDocUpdate decides, for each report, whether its section of doc is
// replaced. A section is kept when the new one reports fewer finished runs
// (results.FinishedRuns): a results directory without a study's runs, or
// with fewer of them, would otherwise blank or thin out published tables.
// force replaces such sections too.
func planDocUpdate(doc []byte, reports []results.StudyReport, force bool) (docUpdate, error) {
	var u docUpdate
	sections, err := results.DocSections(doc)
	if err != nil {
		return u, err
	}
	for _, r := range reports {
		old, ok := sections[r.Experiment]
		switch {
		case !ok:
			u.missing = append(u.missing, r.Experiment)
		case old == r.Markdown:
			u.unchanged = append(u.unchanged, r.Experiment)
		case !force && results.FinishedRuns(r.Markdown) < results.FinishedRuns(old):
			u.kept = append(u.kept, keptSection{r.Experiment, results.FinishedRuns(old), results.FinishedRuns(r.Markdown)})
		default:
			u.replace = append(u.replace, r)
		}
	}
	return u, nil
}

// write says what the update changed, and what it kept and why.
func (u docUpdate) write(w io.Writer, doc, dir string) {
	var names []string
	for _, r := range u.replace {
		names = append(names, r.Experiment)
	}
	switch {
	case len(names) == 0:
		fmt.Fprintf(w, "%s: no section changed", doc)
	default:
		fmt.Fprintf(w, "%s: replaced %s (%s)", doc, count(len(names), "section"), strings.Join(names, ", "))
	}
	if n := len(u.unchanged); n > 0 {
		fmt.Fprintf(w, "; %d unchanged", n)
	}
	fmt.Fprintln(w)
	if len(u.kept) == 0 {
		return
	}
	var parts []string
	for _, k := range u.kept {
		parts = append(parts, fmt.Sprintf("%s (%s on the page, %d in %s)", k.name, count(k.onPage, "finished run"), k.inDir, dir))
	}
	fmt.Fprintf(w, "%s: kept %s that report%s more finished runs than %s holds: %s; "+
		"is %s the results directory they were made from? --force replaces them\n",
		doc, count(len(u.kept), "section"), pick(len(u.kept), "s", ""), dir, strings.Join(parts, ", "), dir)
}

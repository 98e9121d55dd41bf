package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/results/table"
)

// cmdSummarize prints the summary tables of results directories, re-read
// from their Parquet files.
func cmdSummarize(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("summarize", "DIR... [flags]",
		"Print one table per experiment from the Parquet results under each DIR (a results directory written by `sinkrun run`):\n"+
			"the varied axes as columns, Sink_1 as mean ± sd over seeds (* = proxy score), seeds, validation loss,\n"+
			"massive-activation ratio, mean alpha_1 and status. Rows follow the experiment's grid order.", stderr)
	format := fs.String("format", "table", "output format: table, markdown or csv")
	only := fs.String("experiment", "", "only these experiments (comma-separated names)")
	dirs, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(dirs) == 0 {
		fs.Usage()
		return exitUsage
	}
	f, err := results.ParseFormat(*format)
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun summarize:", err)
		return exitUsage
	}
	var runs []table.Run
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			fmt.Fprintln(stderr, "sinkrun summarize:", err)
			return exitError
		}
		rs, err := table.ReadRuns(dir)
		if err != nil {
			fmt.Fprintln(stderr, "sinkrun summarize:", err)
			return exitError
		}
		if len(rs) == 0 {
			fmt.Fprintf(stderr, "sinkrun summarize: no runs in %s (expected %s)\n", dir,
				table.Path(dir, table.TableRuns, "<experiment>", "<id>"))
			return exitError
		}
		runs = append(runs, rs...)
	}
	if *only != "" {
		var err error
		if runs, err = onlyExperiments(runs, *only); err != nil {
			fmt.Fprintln(stderr, "sinkrun summarize:", err)
			return exitError
		}
	}
	results.SortRuns(runs)
	if err := results.WriteSummary(stdout, runs, f); err != nil {
		fmt.Fprintln(stderr, "sinkrun summarize:", err)
		return exitError
	}
	return exitOK
}

// onlyExperiments keeps the runs of the comma-separated experiments; each
// must have runs.
func onlyExperiments(runs []table.Run, list string) ([]table.Run, error) {
	var names []string // in the order given, so the first missing one is reported
	want := map[string]bool{}
	for _, e := range strings.Split(list, ",") {
		if e = strings.TrimSpace(e); e != "" && !want[e] {
			want[e] = true
			names = append(names, e)
		}
	}
	seen := map[string]bool{}
	var kept []table.Run
	for _, r := range runs {
		if want[r.Experiment] {
			kept = append(kept, r)
			seen[r.Experiment] = true
		}
	}
	for _, e := range names {
		if !seen[e] {
			return nil, fmt.Errorf("no runs of experiment %q", e)
		}
	}
	return kept, nil
}

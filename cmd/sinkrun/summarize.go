package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/results/table"
)

// cmdSummarize prints the summary tables of results directories, re-read
// from their Parquet files.
func cmdSummarize(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("summarize", "DIR... [flags]",
		"Print one table per experiment from the Parquet results under each DIR (a results directory written by `sinkrun run`):\n"+
			"the varied axes as columns, the metric catalogue's summary columns (validation loss, Sink_1 and every other\n"+
			"measured Sink_k, Sink*, mean alpha_1, massive-activation ratio) as mean ± sd over seeds (* = proxy score),\n"+
			"seeds and status. Rows follow the experiment's grid order.", stderr)
	format := fs.String("format", "table", "output format: table, markdown or csv")
	only := experimentFlag(fs, "")
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
	values := map[string][]config.StepValue{} // every measured position, for the summary's Sink_k columns
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
		vs, err := results.ReadSummaryValues(dir, rs)
		if err != nil {
			fmt.Fprintln(stderr, "sinkrun summarize:", err)
			return exitError
		}
		for id, v := range vs {
			values[id] = v
		}
		runs = append(runs, rs...)
	}
	if runs, err = onlyExperiments(runs, *only); err != nil {
		fmt.Fprintln(stderr, "sinkrun summarize:", err)
		return exitError
	}
	results.SortRuns(runs)
	if err := results.WriteSummaryOf(stdout, runs, values, f); err != nil {
		fmt.Fprintln(stderr, "sinkrun summarize:", err)
		return exitError
	}
	return exitOK
}

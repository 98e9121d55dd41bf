package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sinkrun/sinkrun/results/plot"
	"github.com/sinkrun/sinkrun/results/table"
)

// cmdPlot draws the figures of a results directory from its Parquet files.
func cmdPlot(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("plot", "DIR [flags]",
		"Draw the figures of the Parquet results under DIR, per experiment: Sink_1 (and every other measured Sink_k and\n"+
			"Sink*), mean alpha_1 and validation loss against training tokens (one line per variant, mean over seeds),\n"+
			"first-token norm ratios per layer (one point per variant for one-layer models), and a\n"+
			"layer x head heat map of alpha_1 for every run, and the final attention map of probe sequence 0 of one head\n"+
			"(--layer, --head; default: the head with the largest alpha_1) for every run with a maps table.\n"+
			"Writes PNG and SVG under --out (default DIR/plots).", stderr)
	out := fs.String("out", "", "output directory (default DIR/plots): <out>/<experiment>/<figure>.png|svg")
	formats := fs.String("format", "png,svg", "image formats, comma-separated: png, svg")
	only := experimentFlag(fs, "")
	layer := fs.Int("layer", -1, "layer of the attention maps drawn (-1: the layer of the head with the largest alpha_1)")
	head := fs.Int("head", -1, "head of the attention maps drawn (-1: the head with the largest alpha_1)")
	dirs, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(dirs) != 1 {
		fs.Usage()
		return exitUsage
	}
	dir := dirs[0]
	var fmts []string
	for _, f := range strings.Split(*formats, ",") {
		switch f = strings.ToLower(strings.TrimSpace(f)); f {
		case plot.PNG, plot.SVG:
			fmts = append(fmts, f)
		case "":
		default:
			fmt.Fprintf(stderr, "sinkrun plot: unknown image format %q (want png or svg)\n", f)
			return exitUsage
		}
	}
	if len(fmts) == 0 {
		fmt.Fprintln(stderr, "sinkrun plot: --format lists no format")
		return exitUsage
	}
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintln(stderr, "sinkrun plot:", err)
		return exitError
	}
	if *out == "" {
		*out = filepath.Join(dir, "plots")
	}
	runs, err := table.ReadRuns(dir)
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun plot:", err)
		return exitError
	}
	if len(runs) == 0 {
		fmt.Fprintf(stderr, "sinkrun plot: no runs in %s\n", dir)
		return exitError
	}
	opts := plot.Options{Formats: fmts}
	if *layer >= 0 || *head >= 0 {
		// One given: the other defaults to 0.
		l, h := max(*layer, 0), max(*head, 0)
		opts.Layer, opts.Head = &l, &h
	}
	if len(*only) > 0 {
		if _, err := onlyExperiments(runs, *only); err != nil {
			fmt.Fprintln(stderr, "sinkrun plot:", err)
			return exitError
		}
		opts.Experiments = *only
	}
	files, err := plot.All(dir, *out, opts)
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun plot:", err)
		return exitError
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "sinkrun plot: no measurements to plot in %s\n", dir)
		return exitError
	}
	figures := map[string]bool{}
	for _, f := range files {
		figures[strings.TrimSuffix(f, filepath.Ext(f))] = true
	}
	fmt.Fprintf(stdout, "%s (%s) in %s\n", count(len(figures), "figure"), strings.Join(fmts, ", "), *out)
	return exitOK
}

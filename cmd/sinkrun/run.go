package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/results/plot"
	"github.com/sinkrun/sinkrun/runtime/runner"
	"github.com/sinkrun/sinkrun/runtime/runner/claim"
	"github.com/sinkrun/sinkrun/runtime/trainer"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", "FILES... [flags]", "Train every run of the experiments in FILES, write Parquet tables under --out, and print a summary table.\n"+
		"Finished runs are skipped (a run's id is a hash of its resolved config and the tool version), failed runs are\n"+
		"retried, interrupted runs resume from their last checkpoint. Ctrl-C checkpoints the runs in flight and exits 130.\n"+
		"See docs/running.md for big grids: plan, -j, --claim, --shard, resume.", stderr)
	out := fs.String("out", DefaultOut, "results directory (Hive layout: <out>/<table>/experiment=<name>/run-<id>.parquet)")
	be := fs.String("backend", "", "compute backend: go, go:parallelism=N, xla:cuda, xla:/path/plugin.so (default $GOMLX_BACKEND, else go)")
	jobs := fs.Int("j", 0, "`N` runs trained at once (-j N or -jN), each with cores/N threads (0: chosen from the cores and the model sizes; 1 on non-Go backends)")
	force := fs.Bool("force", false, "re-run runs whose results already exist")
	failFast := fs.Bool("fail-fast", false, "stop the batch at the first failed or diverged run (runs in flight are checkpointed)")
	claimRuns := fs.Bool("claim", false, "be one of any number of workers sharing --out: train the runs no live worker has claimed, until\nnone is left; a run whose worker stopped refreshing its claim for --lease is taken over and resumed")
	lease := fs.Duration("lease", claim.DefaultLease, "with --claim: how long a claim lives without a refresh (claims are refreshed every lease/6); keep it well\nabove a minute on NFS, whose attribute cache delays what other machines see")
	shard := fs.String("shard", "", "run only slice `i/n` of the batch (0 <= i < n); in a Slurm array, i/n must be\n($SLURM_ARRAY_TASK_ID-MIN)/STEP of $SLURM_ARRAY_TASK_COUNT, or the run fails; all shards may write into one --out")
	every := fs.Int("checkpoint-every", 0, "checkpoint runs every `N` steps; -1: never; 0: at every measurement (every steps/10 when measure.every\nis 0), at most once in 30 s. Ctrl-C always checkpoints the runs in flight")
	progress := fs.String("progress", "auto", "progress display: bar (redrawn in place), lines (plain log lines), or auto (bar on a terminal)")
	format := fs.String("format", "table", "summary format: table, markdown or csv")
	warnExpect := fs.Bool("warn-expect", false, "report failing expect claims as warnings (exit 0); without it a failing claim exits 1")
	keepWeights := fs.Bool("keep-weights", false, "keep the final model of each run this batch trains under <out>/weights/experiment=<name>/run-<id>,\nfor sinkrun export (runs whose results exist are skipped and keep nothing: add --force)")
	only := experimentFlag(fs, "(its runs only)")
	htmlPage := fs.String("html", "", "keep an HTML report of the batch's experiments in `FILE`: written at the start, rewritten as runs finish\n(open it during the batch: it reloads itself), and once more at the end; see sinkrun report --html")
	files, code, ok := parseFiles(fs, expandJobs(args))
	if !ok {
		return code
	}
	sf, err := results.ParseFormat(*format)
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun run:", err)
		return exitUsage
	}
	var sh runner.Shard
	if *shard != "" {
		if *claimRuns {
			fmt.Fprintln(stderr, "sinkrun run: --shard and --claim exclude each other: claiming workers need no slices")
			return exitUsage
		}
		if sh, err = runner.ParseShard(*shard); err == nil {
			err = runner.CheckShardEnv(sh, os.Getenv)
		}
		if err != nil {
			fmt.Fprintln(stderr, "sinkrun run:", err)
			return exitUsage
		}
	}
	if *lease < claim.MinLease {
		fmt.Fprintf(stderr, "sinkrun run: --lease %v: want at least %v\n", *lease, claim.MinLease)
		return exitUsage
	}
	switch *progress {
	case "auto", "bar", "lines":
	default:
		fmt.Fprintf(stderr, "sinkrun run: --progress %q: want auto, bar or lines\n", *progress)
		return exitUsage
	}
	if *jobs < 0 {
		fmt.Fprintln(stderr, "sinkrun run: -j must be >= 0")
		return exitUsage
	}
	exps, ok := compile(files, stderr)
	if !ok {
		return exitError
	}
	if exps, err = selectExperiments(exps, *only); err != nil {
		fmt.Fprintln(stderr, "sinkrun run:", err)
		return exitUsage
	}
	opts := runner.Options{
		Out: *out, Backend: *be, Jobs: *jobs, Force: *force, FailFast: *failFast, Shard: sh, Claim: *claimRuns, Lease: *lease,
		CheckpointEvery: *every, Progress: *progress, Log: stderr, GitRevision: revision(), KeepWeights: *keepWeights,
	}
	var page *livePage
	if *htmlPage != "" {
		page = newLivePage(*htmlPage, *out, exps, stderr)
		page.write(livePageRefresh)
		opts.RunWritten = page.changed
	}
	outcome, err := runner.Run(ctx, exps, opts)
	if page != nil {
		page.finish()
		fmt.Fprintf(stderr, "HTML report in %s\n", *htmlPage)
	}
	if len(outcome.Runs) > 0 {
		fmt.Fprintln(stdout)
		// The runs' values give the summary every measured position (Sink_2
		// ...), which the runs table alone does not hold.
		values, verr := results.ReadSummaryValues(*out, outcome.Runs)
		if verr != nil {
			fmt.Fprintln(stderr, "sinkrun run: summary: reading the metrics tables:", verr)
		}
		if serr := results.WriteSummaryOf(stdout, outcome.Runs, values, sf); serr != nil {
			fmt.Fprintln(stderr, "sinkrun run: summary:", serr)
		}
		switch {
		case errors.Is(err, trainer.ErrInterrupted):
		case sh.N > 1 || *claimRuns:
			// Workers share --out: figures of a part of the grid would be
			// overwritten by the next worker's. Draw them once at the end.
			fmt.Fprintf(stderr, "draw the figures of the whole grid when every worker is done: sinkrun plot %s\n", *out)
		default:
			plots := filepath.Join(*out, "plots")
			if files, perr := plot.Runs(*out, plots, outcome.Runs, plot.Options{}); perr != nil {
				fmt.Fprintln(stderr, "sinkrun run: plots:", perr)
			} else if len(files) > 0 {
				fmt.Fprintf(stderr, "figures in %s\n", plots)
			}
		}
	}
	// Expectations need the whole grid: not after a shard or an interruption.
	expectFailed := false
	if err == nil && sh.N <= 1 && countExpectations(exps) > 0 {
		fmt.Fprintln(stdout)
		failed, xerr := checkExpectations(*out, exps, stdout)
		if xerr != nil {
			fmt.Fprintln(stderr, "sinkrun run: expectations:", xerr)
		}
		expectFailed = (failed || xerr != nil) && !*warnExpect
	}
	left := outcome.Total - outcome.Done - outcome.Skipped - outcome.Diverged - outcome.Failed - outcome.Elsewhere
	notRun := ""
	if outcome.Elsewhere > 0 {
		notRun = fmt.Sprintf(", %d trained by other workers", outcome.Elsewhere)
	}
	if left > 0 {
		notRun += fmt.Sprintf(", %d not finished", left)
	}
	fmt.Fprintf(stderr, "%d done, %d skipped, %d diverged, %d failed%s; results in %s\n",
		outcome.Done, outcome.Skipped, outcome.Diverged, outcome.Failed, notRun, *out)
	if n := outcome.NotKept; n > 0 {
		fmt.Fprintf(stderr, "--keep-weights: no weights kept for the %s skipped because %s results exist (a skipped run is not trained, "+
			"so there is nothing to keep); add --force to train %s again and keep %s weights\n",
			count(n, "run"), pick(n, "its", "their"), pick(n, "it", "them"), pick(n, "its", "their"))
	}
	switch {
	case errors.Is(err, trainer.ErrInterrupted) && *force:
		// --force trains every run again, the ones this batch has just
		// finished too: the same command does not go on from here.
		n := outcome.Done + outcome.Diverged
		resumes := ""
		if m := outcome.Interrupted; m > 0 {
			resumes = fmt.Sprintf(", but resumes the %d interrupted from %s", m, pick(m, "its checkpoint", "their checkpoints"))
		}
		fmt.Fprintf(stderr, "sinkrun run: interrupted; the same command (with --force) trains every run again from step 0, the %d this batch finished too%s; "+
			"without --force only the runs without results are trained (interrupted ones resume), and every other run keeps the results it has "+
			"(the %d from this batch, earlier ones for the rest)\n", n, resumes, n)
		return exitInterrupted
	case errors.Is(err, trainer.ErrInterrupted):
		fmt.Fprintln(stderr, "sinkrun run: interrupted; run the same command again to resume: finished runs are skipped, interrupted ones resume from their checkpoints")
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(stderr, "sinkrun run:", err)
		return exitError
	case outcome.Failed > 0, expectFailed:
		return exitError
	}
	return exitOK
}

// pick is one when n is 1, else many.
func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

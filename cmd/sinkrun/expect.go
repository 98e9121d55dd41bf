package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/results"
)

// cmdExpect checks the expect blocks of .sink files against a results
// directory.
func cmdExpect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("expect", "DIR FILES... [flags]",
		"Evaluate the expect blocks of the experiments in FILES on the Parquet results under DIR, written by\n"+
			"`sinkrun run FILES`. Each claim prints a verdict line with its numbers: pass, FAIL, known (marked disagrees and\n"+
			"does not hold), HOLDS (marked disagrees but holds) or n/a (a run it needs has not finished). A metric is the mean,\n"+
			"over the runs its selector picks (all seeds), of its value at each run's last measurement, or with runs: min or max\n"+
			"its smallest or largest; each verdict says what decided it: the means (and whether every run agrees) or every run.\n"+
			"Exit 1 when a claim fails or cannot be evaluated, unless --warn.", stderr)
	warn := fs.Bool("warn", false, "report failing claims as warnings: exit 0")
	only := experimentFlag(fs, "(its claims only)")
	dir, exps, code := resultsAndExperiments("expect", fs, only, args, stderr)
	if code != exitOK {
		return code
	}
	if countExpectations(exps) == 0 {
		fmt.Fprintln(stderr, "sinkrun expect: no expect blocks in these files")
		return exitOK
	}
	if failed, err := checkExpectations(dir, exps, stdout); err != nil {
		fmt.Fprintln(stderr, "sinkrun expect:", err)
		return exitError
	} else if failed && !*warn {
		return exitError
	}
	return exitOK
}

func countExpectations(exps []*compiler.Experiment) int {
	n := 0
	for _, x := range exps {
		n += len(x.Expectations)
	}
	return n
}

// checkExpectations prints the verdicts of the experiments' expectations on
// the results in dir and reports whether one failed.
func checkExpectations(dir string, exps []*compiler.Experiment, w io.Writer) (failed bool, err error) {
	rs, err := results.CheckExpectations(dir, exps)
	if err != nil {
		return false, err
	}
	if err := results.WriteExpectations(w, rs); err != nil {
		return false, err
	}
	for _, r := range rs {
		failed = failed || r.Verdict.Failed()
	}
	return failed, nil
}

// resultsAndExperiments parses the DIR FILES... arguments of expect and
// report: DIR must exist (the results of `sinkrun run FILES`) and FILES must
// compile. code is exitOK when both hold, else the exit code to return.
// With --experiment (only), the experiments named.
func resultsAndExperiments(cmd string, fs *flag.FlagSet, only *experimentNames, args []string, stderr io.Writer) (dir string, exps []*compiler.Experiment, code int) {
	args, err := parseInterspersed(fs, args)
	if err != nil {
		return "", nil, flagExit(err)
	}
	if len(args) < 2 {
		fs.Usage()
		return "", nil, exitUsage
	}
	dir, files := args[0], args[1:]
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(stderr, "sinkrun %s: %v\n", cmd, err)
		return "", nil, exitError
	}
	exps, ok := compile(files, stderr)
	if !ok {
		return "", nil, exitError
	}
	if exps, err = selectExperiments(exps, *only); err != nil {
		fmt.Fprintf(stderr, "sinkrun %s: %v\n", cmd, err)
		return "", nil, exitUsage
	}
	return dir, exps, exitOK
}

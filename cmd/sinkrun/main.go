// Command sinkrun trains small language models described in `.sink` files and
// measures their attention sinks.
//
//	sinkrun run FILES... [--out DIR]    train every run, write Parquet, print a summary
//	sinkrun FILES...                    shorthand for run
//	sinkrun check FILES...              parse and validate only
//
// Run `sinkrun help` or `sinkrun COMMAND --help` for the flags of each command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/runtime/runner/cpulimit"
)

// gitRevision is set by the Makefile (-ldflags -X main.gitRevision=...).
var gitRevision = ""

// DefaultOut is the results directory of every command that writes or reads
// one, unless --out (or --results) says otherwise. It is not results/, the Go
// package of that name: Parquet files do not belong among .go files.
const DefaultOut = "sinkrun-results"

// Exit codes.
const (
	exitOK          = 0
	exitError       = 1 // bad input, failed runs
	exitUsage       = 2
	exitInterrupted = 130
)

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "FILES... [flags]", "train every run of the experiments, write Parquet results, print a summary", cmdRun},
		{"check", "FILES...", "parse and validate .sink files without training", cmdCheck},
		{"plan", "FILES... [flags]", "list every run with its size, cost and results, and estimate the time on this machine", cmdPlanTimed},
		{"fmt", "FILES... [flags]", "format .sink files canonically (-w rewrite, -l list, -d diff)", cmdFmt},
		{"expect", "DIR FILES...", "check the expect blocks of .sink files against the results in DIR: a pass/fail line per claim", cmdExpect},
		{"report", "DIR FILES...", "one HTML page of the results (--html FILE), or the study tables and claims' agreement as Markdown (--doc)", cmdReport},
		{"summarize", "DIR... [flags]", "print the summary tables of results directories, re-read from their Parquet files", cmdSummarize},
		{"bench", "[FILE.sink] [flags]", "time the training step against the reference model (or a run of FILE); --json for one line", cmdBench},
		{"plot", "DIR [flags]", "draw the figures of a results directory as PNG and SVG (default DIR/plots)", cmdPlot},
		{"export", "FILE --out DIR", "write a trained run's final model (kept by run --keep-weights) as a Hugging Face checkpoint", cmdExport},
		{"tokenizer", "train [flags]", "train a small byte-level BPE tokenizer (vocab.json + merges.txt) on a corpus", cmdTokenizer},
	}
}

func main() {
	// GOMAXPROCS from the CPUs that Slurm (-c) or a container's quota
	// grants, before anything sizes itself on it: without CPU pinning the
	// process sees the whole node.
	cpulimit.Apply()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first Ctrl-C (or SIGTERM, as Slurm and Kubernetes send) stops
		// cleanly: runs in flight are checkpointed, results flushed, exit 130.
		// Restoring the default handling of SIGINT lets a second Ctrl-C quit
		// at once. Not of SIGTERM: a second one (a retry, a kill by hand)
		// must not cut the checkpoint short, and schedulers send SIGKILL
		// themselves when their grace period is over.
		<-ctx.Done()
		signal.Reset(os.Interrupt)
	}()
	os.Exit(dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintf(stdout, "sinkrun %s (%s)\n", config.Version, revision())
		return exitOK
	}
	if args[0] == hfGenerateName { // hidden: a developer's tool, see hfgen.go
		return cmdHFGenerate(ctx, args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	if strings.HasSuffix(args[0], ".sink") || strings.HasPrefix(args[0], "-") {
		return cmdRun(ctx, args, stdout, stderr) // `sinkrun FILES...` is shorthand for run
	}
	names := []string{"help", "version"}
	for _, c := range commands() {
		names = append(names, c.name)
	}
	fmt.Fprintf(stderr, "sinkrun: unknown command %q%s; `sinkrun help` lists the commands\n", args[0], didYouMean(args[0], names))
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "sinkrun: train small language models from .sink files and measure their attention sinks")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  sinkrun %-10s %-18s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "  sinkrun %-10s %-18s %s\n", "FILES...", "", "shorthand for `sinkrun run FILES...`")
	fmt.Fprintln(w, "\nRun `sinkrun COMMAND --help` for a command's flags. Language reference: docs/dsl.md.")
}

// newFlags makes a flag set whose --help prints the command's usage.
func newFlags(name, args, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: sinkrun %s %s\n\n%s\n\nFlags:\n", name, args, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterspersed parses flags that may come before or after the files.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return files, nil
		}
		files = append(files, args[0])
		args = args[1:]
	}
}

// parseFiles parses a command's flags and its FILES arguments (flags may
// come before or after them). It reports false, with the exit code, on a
// flag error, --help, or no files (after printing the usage).
func parseFiles(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, flagExit(err), false
	}
	if len(files) == 0 {
		fs.Usage()
		return nil, exitUsage, false
	}
	return files, exitOK, true
}

// compile parses and checks the files, printing errors with source context.
func compile(files []string, stderr io.Writer) ([]*compiler.Experiment, bool) {
	exps, err := compiler.CompileFiles(files)
	if err != nil {
		sources := map[string][]byte{}
		for _, f := range files {
			if b, rerr := os.ReadFile(f); rerr == nil {
				sources[f] = b
			}
		}
		fmt.Fprint(stderr, compiler.FormatErrors(err, sources))
		return nil, false
	}
	return exps, true
}

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", "FILES...", "Parse and validate .sink files; print each experiment's run count. Exit 0 only when all are valid.", stderr)
	files, code, ok := parseFiles(fs, args)
	if !ok {
		return code
	}
	exps, ok := compile(files, stderr)
	if !ok {
		return exitError
	}
	for _, e := range exps {
		claims := ""
		if n := len(e.Expectations); n > 0 {
			claims = ", " + count(n, "expect claim")
		}
		fmt.Fprintf(stdout, "%s: experiment %s: %s (axes: %s)%s\n", e.Pos, e.Name, count(len(e.Runs), "run"), axes(e), claims)
	}
	return exitOK
}

func axes(e *compiler.Experiment) string {
	if len(e.Axes) == 0 {
		return "none"
	}
	return strings.Join(e.Axes, ", ")
}

func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// revision is the git revision the binary was built from, if known.
func revision() string {
	if gitRevision != "" {
		return gitRevision
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/sinkrun/sinkrun/dsl"
)

// closest is the candidate nearest to name (by edit distance, or as a
// prefix of it or it of name), or "" when none is near enough to be a
// likely misspelling.
func closest(name string, candidates []string) string {
	name = strings.ToLower(name)
	limit := 2
	switch {
	case len(name) <= 3:
		limit = 1
	case len(name) >= 12:
		limit = 3
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		d := dsl.Distance(name, strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	// A prefix long enough to mean one thing: "summ" for "summarize".
	for _, c := range candidates {
		if len(name) >= 3 && (strings.HasPrefix(c, name) || strings.HasPrefix(name, c)) {
			return c
		}
	}
	return ""
}

// didYouMean is ` (did you mean "x"?)`, or "" when no candidate is close.
func didYouMean(name string, candidates []string) string {
	if c := closest(name, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

var undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)

// reportFlagError prints a flag error of the command fs in one line, with
// the nearest flag for an unknown one, instead of the flag package's whole
// usage: the usage is one --help away.
func reportFlagError(fs *flag.FlagSet, err error, w io.Writer) {
	cmd := "sinkrun " + fs.Name()
	msg := err.Error()
	if m := undefinedFlag.FindStringSubmatch(msg); m != nil {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		msg = "unknown flag -" + m[1]
		if c := closest(m[1], names); c != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", c)
		}
	}
	fmt.Fprintf(w, "%s: %s; `%s --help` lists its flags\n", cmd, msg, cmd)
}

// parseFlags parses args with fs, keeping the flag package's own messages
// quiet: --help prints the command's usage, any other error one line
// (reportFlagError).
func parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
	default:
		reportFlagError(fs, err, out)
	}
	return err
}

var jobsShorthand = regexp.MustCompile(`^--?j([0-9]+)$`)

// expandJobs turns -j2 into -j=2, as make and the README's habit write it.
func expandJobs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		if m := jobsShorthand.FindStringSubmatch(a); m != nil {
			a = "-j=" + m[1]
		}
		out[i] = a
	}
	return out
}

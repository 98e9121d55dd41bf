package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/results/table"
)

// experimentNames is the value of --experiment: repeatable, and each value
// may list several names separated by commas.
type experimentNames []string

func (e *experimentNames) String() string { return strings.Join(*e, ",") }

func (e *experimentNames) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		if name = strings.TrimSpace(name); name != "" && !contains(*e, name) {
			*e = append(*e, name)
		}
	}
	return nil
}

// experimentFlag declares --experiment on fs.
func experimentFlag(fs *flag.FlagSet, what string) *experimentNames {
	var names experimentNames
	if what != "" {
		what = " " + what
	}
	fs.Var(&names, "experiment", "only the experiment `NAME`"+what+"; repeat the flag (or separate names with commas) for several")
	return &names
}

// selectExperiments keeps the experiments named (all of them when names is
// empty), in the files' order. A name no file defines is an error that
// names the closest one.
func selectExperiments(exps []*compiler.Experiment, names experimentNames) ([]*compiler.Experiment, error) {
	if len(names) == 0 {
		return exps, nil
	}
	var have []string
	for _, x := range exps {
		have = append(have, x.Name)
	}
	if err := checkNames(names, have, "these files define no experiment"); err != nil {
		return nil, err
	}
	var kept []*compiler.Experiment
	for _, x := range exps {
		if contains(names, x.Name) {
			kept = append(kept, x)
		}
	}
	return kept, nil
}

// onlyExperiments keeps the runs of the experiments named (all of them when
// names is empty); each name must have runs.
func onlyExperiments(runs []table.Run, names experimentNames) ([]table.Run, error) {
	if len(names) == 0 {
		return runs, nil
	}
	var have []string
	for _, r := range runs {
		if !contains(have, r.Experiment) {
			have = append(have, r.Experiment)
		}
	}
	if err := checkNames(names, have, "no runs of experiment"); err != nil {
		return nil, err
	}
	var kept []table.Run
	for _, r := range runs {
		if contains(names, r.Experiment) {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// checkNames reports the first of names that is not in have, with the
// closest one, or every name there is when few.
func checkNames(names, have []string, missing string) error {
	for _, n := range names {
		if contains(have, n) {
			continue
		}
		hint := didYouMean(n, have)
		if hint == "" && len(have) > 0 && len(have) <= 12 {
			hint = " (there are " + strings.Join(have, ", ") + ")"
		}
		return fmt.Errorf("--experiment %s: %s %q%s", n, missing, n, hint)
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

package config

import (
	"fmt"
	"slices"
)

// The claims of `expect` blocks, as the compiler resolves them and results
// evaluates them: both read these types, so neither imports the other.

// Pos is a place in a `.sink` file (line and column 1-based).
type Pos struct {
	File      string
	Line, Col int
}

// String is "file:line:col".
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Experiment is one compiled experiment: its grid of runs and its claims.
type Experiment struct {
	Name, File string
	Pos        Pos
	Axes       []string // varied paths, in axis order (a zip group contributes each of its paths)
	Runs       []Run
	// Expectations are the claims of its expect blocks (not inherited from
	// its parent; a rebased experiment carries its study's).
	Expectations []Expectation
}

// Expectation is one claim of an experiment's expect block, checked against
// the experiment's grid: `sink_1[attention: softmax] > sink_1[attention:
// sigmoid] + 50`. Each metric in it is the mean (or with `runs: min` / `max`
// the smallest or largest value), over the runs its selector picks (every
// seed, and every value of the axes it does not name), of the metric's value
// at the run's last measurement.
type Expectation struct {
	Pos   Pos
	Claim string // canonical text, as `sinkrun fmt` writes it
	// Disagrees marks a claim known not to hold at the scale the file runs
	// at: it is reported, and does not fail the check.
	Disagrees   bool
	Op          string // "<", ">", "<=" or ">="
	Left, Right []Term
}

// Term is a signed constant or quantity of one side of a claim.
type Term struct {
	Neg      bool
	Const    float64   // when Quantity is nil
	Quantity *Quantity // a metric of some runs
}

// Quantity is a metric over the runs a selector picks: their mean, or with
// `runs: min` / `runs: max` the smallest or largest value of any one run.
// Each run's value is Pick(its values, Metric, At, nil, Over).
type Quantity struct {
	Pos  Pos
	Text string // canonical text: sink_1(eps: 0.5)[attention: softmax]
	// Metric is the catalogue metric, Claim the name the claim used
	// ("sink_K" for sink_2).
	Metric, Claim string
	// At are the coordinates the name and its arguments fix (k = 2,
	// eps = 0.3), Over how values left at other coordinates combine.
	At     Point
	Over   Reduction
	Reduce Reduction // how the runs' values combine
	Runs   []string  // ids of the selected runs, in grid order
}

// Reduction combines values: of a quantity's runs (the mean says what a
// setting does on average; min and max state a claim of every run: "every
// seed sinks": `sink_1(runs: min) > 50`), or of a metric's coordinates (the
// largest ratio over the layers).
type Reduction int

const (
	Mean Reduction = iota // the default
	Min
	Max
)

// reductions are the names of the reductions, by Reduction: the values of
// a claim's `runs` argument.
var reductions = []string{"mean", "min", "max"}

func (r Reduction) String() string { return reductions[r] }

// Reductions lists the reductions' names.
func Reductions() []string { return slices.Clone(reductions) }

// ParseReduction reads a reduction's name.
func ParseReduction(name string) (Reduction, bool) {
	i := slices.Index(reductions, name)
	return Reduction(max(i, 0)), i >= 0
}

// Apply combines values (at least one).
func (r Reduction) Apply(vs []float64) float64 {
	switch r {
	case Min:
		return slices.Min(vs)
	case Max:
		return slices.Max(vs)
	}
	s := 0.0
	for _, v := range vs {
		s += v
	}
	return s / float64(len(vs))
}

// Eval is the claim's verdict given each quantity's value: the two sides
// and whether the comparison holds.
func (e Expectation) Eval(value func(*Quantity) float64) (left, right float64, holds bool) {
	left, right = sum(e.Left, value), sum(e.Right, value)
	switch e.Op {
	case "<":
		holds = left < right
	case "<=":
		holds = left <= right
	case ">":
		holds = left > right
	case ">=":
		holds = left >= right
	}
	return left, right, holds
}

func sum(ts []Term, value func(*Quantity) float64) float64 {
	s := 0.0
	for _, t := range ts {
		v := t.Const
		if t.Quantity != nil {
			v = value(t.Quantity)
		}
		if t.Neg {
			v = -v
		}
		s += v
	}
	return s
}

// Quantities lists the claim's quantities, left side first.
func (e Expectation) Quantities() []*Quantity {
	var qs []*Quantity
	for _, t := range append(slices.Clone(e.Left), e.Right...) {
		if t.Quantity != nil {
			qs = append(qs, t.Quantity)
		}
	}
	return qs
}

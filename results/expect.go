package results

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// Verdict is the outcome of one expectation on a results directory.
type Verdict int

const (
	// Pass: the claim holds.
	Pass Verdict = iota
	// Fail: the claim does not hold.
	Fail
	// Known: a claim marked `disagrees` does not hold, as recorded.
	Known
	// Holds: a claim marked `disagrees` holds: the mark is out of date.
	Holds
	// NotEvaluated: some run the claim needs has no finished result.
	NotEvaluated
)

func (v Verdict) String() string {
	return [...]string{"pass", "FAIL", "known", "HOLDS", "n/a"}[v]
}

// Failed reports whether the verdict fails a check: a claim that does not
// hold, or that could not be evaluated.
func (v Verdict) Failed() bool { return v == Fail || v == NotEvaluated }

// QuantityValue is a quantity of a claim measured on a results directory:
// its value in the claim (the mean over its runs, or their min or max), and
// the mean and standard deviation over its runs.
type QuantityValue struct {
	Quantity *config.Quantity
	Value    float64
	Mean, SD float64 // SD is NaN with fewer than two runs
	Min, Max float64 // the smallest and largest value of one run
	N        int     // runs with a value
	Proxy    bool    // some value is a proxy score (row-normalised maps)
}

// ExpectResult is one expectation evaluated on a results directory.
type ExpectResult struct {
	Experiment, File string
	Expectation      config.Expectation
	Values           []QuantityValue // in Expectation.Quantities() order
	Left, Right      float64         // the two sides; NaN when not evaluated
	Verdict          Verdict
	// Why says why the claim was not evaluated.
	Why string
}

// CheckExpectations evaluates the expectations of the experiments on the
// results under dir. A quantity is the mean over its runs of the metric's
// value at each run's last measurement; every run it selects must have
// finished ("done"), else the claim is not evaluated.
func CheckExpectations(dir string, exps []*config.Experiment) ([]ExpectResult, error) {
	var runs map[string]table.Run
	var out []ExpectResult
	for _, x := range exps {
		if len(x.Expectations) == 0 {
			continue
		}
		if runs == nil {
			var err error
			if runs, err = runsByID(dir); err != nil {
				return nil, err
			}
		}
		final, err := readFinalMetrics(dir, x.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, studyClaims(x, runs, final)...)
	}
	return out, nil
}

// runsByID reads the runs table under dir, keyed by run id.
func runsByID(dir string) (map[string]table.Run, error) {
	all, err := table.ReadRuns(dir)
	if err != nil {
		return nil, err
	}
	runs := make(map[string]table.Run, len(all))
	for _, r := range all {
		runs[r.ID] = r
	}
	return runs, nil
}

// readFinalMetrics reads an experiment's metric values, by run.
func readFinalMetrics(dir, experiment string) (map[string][]config.StepValue, error) {
	return table.ReadValues(dir, experiment)
}

// studyClaims evaluates the expectations of x, in order, given the runs
// table and x's metric values.
func studyClaims(x *config.Experiment, runs map[string]table.Run, final map[string][]config.StepValue) []ExpectResult {
	out := make([]ExpectResult, 0, len(x.Expectations))
	for _, e := range x.Expectations {
		out = append(out, evaluate(x, e, runs, final))
	}
	return out
}

func evaluate(x *config.Experiment, e config.Expectation, runs map[string]table.Run, final map[string][]config.StepValue) ExpectResult {
	res := ExpectResult{Experiment: x.Name, File: x.File, Expectation: e, Left: math.NaN(), Right: math.NaN(), Verdict: NotEvaluated}
	values := map[*config.Quantity]float64{}
	for _, q := range e.Quantities() {
		qv := QuantityValue{Quantity: q}
		var vs []float64
		for _, id := range q.Runs {
			r, ok := runs[id]
			switch {
			case !ok:
				res.Why = fmt.Sprintf("%s: %d of %d runs have no results", q.Text, missing(q.Runs, runs), len(q.Runs))
				return res
			case r.Status != table.StatusDone:
				res.Why = fmt.Sprintf("%s: a run %s (%s)", q.Text, r.Status, describeRun(r))
				return res
			}
			v, proxy, ok := config.Pick(final[id], q.Metric, q.At, nil, q.Over)
			if !ok {
				res.Why = fmt.Sprintf("%s: the metrics of run %s do not have it", q.Text, id)
				return res
			}
			vs = append(vs, v)
			qv.Proxy = qv.Proxy || proxy
		}
		st := statOf(vs)
		qv.Mean, qv.SD, qv.N = st.mean, st.sd, st.n
		qv.Value = reduce(q.Reduce, vs)
		qv.Min, qv.Max = reduce(config.Min, vs), reduce(config.Max, vs)
		values[q] = qv.Value
		res.Values = append(res.Values, qv)
	}
	left, right, holds := e.Eval(func(q *config.Quantity) float64 { return values[q] })
	res.Left, res.Right = left, right
	switch {
	case holds && e.Disagrees:
		res.Verdict = Holds
	case holds:
		res.Verdict = Pass
	case e.Disagrees:
		res.Verdict = Known
	default:
		res.Verdict = Fail
	}
	return res
}

// reduce combines the runs' values as the quantity says, over the finite
// ones only, as statOf counts them (the N runs its line shows), so that
// `runs: mean` is the printed mean; NaN when no value is finite.
func reduce(r config.Reduction, vs []float64) float64 {
	finite := slices.DeleteFunc(slices.Clone(vs), func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
	if len(finite) == 0 {
		return math.NaN()
	}
	return r.Apply(finite)
}

func missing(ids []string, runs map[string]table.Run) int {
	n := 0
	for _, id := range ids {
		if _, ok := runs[id]; !ok {
			n++
		}
	}
	return n
}

func describeRun(r table.Run) string {
	var parts []string
	for _, s := range r.Varied {
		parts = append(parts, s.Path+" "+s.Value)
	}
	if len(parts) == 0 {
		return r.ID
	}
	return strings.Join(parts, ", ")
}

// WriteExpectations prints one verdict per claim with its numbers, then a
// count of the verdicts:
//
//	pass  quickstart.sink:31:5: sink_1[attention: softmax] > sink_1[attention: sigmoid] + 50
//	      99.50 > 50.00: sink_1[attention: softmax] = 99.50 ± 0.71 (2 runs), sink_1[attention: sigmoid] = 0.00* ± 0.00 (2 runs)
func WriteExpectations(w io.Writer, rs []ExpectResult) error {
	var b strings.Builder
	counts := map[Verdict]int{}
	for _, r := range rs {
		counts[r.Verdict]++
		fmt.Fprintf(&b, "%-5s %s: %s\n", r.Verdict, r.Expectation.Pos, r.Expectation.Claim)
		if r.Verdict == NotEvaluated {
			fmt.Fprintf(&b, "      not evaluated: %s\n", r.Why)
			continue
		}
		var parts []string
		for _, v := range r.Values {
			parts = append(parts, fmt.Sprintf("%s = %s (%s)", v.Quantity.Text, v.Cell(), plural(v.N, "run")))
		}
		fmt.Fprintf(&b, "      %s %s %s: %s\n", fmtNum(r.Left), r.Expectation.Op, fmtNum(r.Right), strings.Join(parts, ", "))
		if basis := r.Basis(); basis != "" {
			fmt.Fprintf(&b, "      %s\n", basis)
		}
	}
	if len(rs) > 0 {
		fmt.Fprintf(&b, "expectations: %d pass, %d FAIL, %d known to disagree, %d HOLD though marked disagrees, %d not evaluated\n",
			counts[Pass], counts[Fail], counts[Known], counts[Holds], counts[NotEvaluated])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Cell is "mean ± sd" ("mean" for one run), "*" marking a proxy score;
// with `runs: min` or `max`, "value (min; mean ± sd)".
func (v QuantityValue) Cell() string {
	proxy := ""
	if v.Proxy {
		proxy = "*"
	}
	s := fmtNum(v.Mean) + proxy
	if !math.IsNaN(v.SD) {
		s += " ± " + fmtNum(v.SD)
	}
	if v.Quantity.Reduce != config.Mean {
		s = fmt.Sprintf("%s%s (%s; mean %s)", fmtNum(v.Value), proxy, v.Quantity.Reduce, s)
	}
	return s
}

// fmtNum writes a value with 2 decimals, or 3 below 1 in magnitude
// (alpha_1, small differences).
func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.Abs(v) < 1 && v != 0:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

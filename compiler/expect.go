package compiler

import (
	"slices"
	"strconv"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/dsl"
)

// Expectation is one claim of an experiment's expect block, checked against
// the experiment's grid: `sink_1[attention: softmax] > sink_1[attention:
// sigmoid] + 50`. Each metric in it is the mean (or with `runs: min` / `max`
// the smallest or largest value), over the runs its selector picks (every
// seed, and every value of the axes it does not name), of the metric's value
// at the run's last measurement.
type Expectation struct {
	Pos   dsl.Pos
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
type Quantity struct {
	Pos    dsl.Pos
	Text   string // canonical text: sink_1(eps: 0.5)[attention: softmax]
	Metric Metric
	K      int       // the position, for SinkK
	Eps    float64   // the threshold, for SinkK and SinkSlot
	Reduce Reduction // how the runs' values combine
	Runs   []string  // ids of the selected runs, in grid order
}

// Reduction combines the selected runs' values of a quantity. The mean says
// what a setting does on average; min and max state a claim of every run
// ("every seed sinks": `sink_1(runs: min) > 50`).
type Reduction int

const (
	Mean Reduction = iota // the default
	Min
	Max
)

// reductions are the values of a metric's `runs` argument, by Reduction.
var reductions = []string{"mean", "min", "max"}

func (r Reduction) String() string { return reductions[r] }

// Apply combines values (one per run; at least one).
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

// Metric is what a quantity measures. Each is a metric of the results'
// metrics table, at a run's last measurement.
type Metric int

const (
	SinkK         Metric = iota + 1 // sink_K: Sink_K^eps in %
	SinkSlot                        // sink_star: Sink* in %, the slot column's score
	Alpha1                          // alpha_1: mean alpha_1
	ValLoss                         // val_loss
	TrainLoss                       // train_loss
	MassiveHidden                   // massive: the largest hidden-state ratio over layers
	MassiveKey                      // massive_key: the same for keys
	MassiveValue                    // massive_value: the same for values
)

// expectMetric documents one metric name of the expect language.
type expectMetric struct {
	Name   string // sink_K stands for sink_1, sink_2, ...
	Metric Metric
	Doc    string
}

// expectMetrics is the vocabulary of expect blocks (docs/dsl.md lists it).
var expectMetrics = []expectMetric{
	{"sink_K", SinkK, "Sink_K^eps in %: the share of (probe sequence, layer, head) with alpha_K > eps, for a measured position K " +
		"(1, `measure.sink`, `data.fixed_token`'s position, the position after `data.random_tokens`' span); " +
		"eps is the first of `measure.eps` unless written: `sink_2(eps: 0.5)`"},
	{"sink_star", SinkSlot, "Sink* in %: the score of the slot column (key bias, KV bias, sink token, sink logit); " +
		"only for runs whose model has one; `sink_star(eps: 0.5)` as for sink_K"},
	{"alpha_1", Alpha1, "alpha_1, the first token's attention, averaged over probe sequences, layers and heads"},
	{"val_loss", ValLoss, "validation loss, nats per token"},
	{"train_loss", TrainLoss, "training loss of the last step"},
	{"massive", MassiveHidden, "the first token's hidden-state norm over the other tokens' mean, largest over layers"},
	{"massive_key", MassiveKey, "the same ratio for keys"},
	{"massive_value", MassiveValue, "the same ratio for values"},
}

// String is the metric's name in an expect block (sink_K for SinkK).
func (m Metric) String() string {
	for _, em := range expectMetrics {
		if em.Metric == m {
			return em.Name
		}
	}
	return "metric(" + strconv.Itoa(int(m)) + ")"
}

// expectations checks the expect blocks of an expanded experiment.
func (c *compiler) expectations(es *expState, x *Experiment) []Expectation {
	var out []Expectation
	var blocks []*dsl.Expect
	for _, from := range slices.Concat(es.claimsFrom, []*dsl.Experiment{es.ast}) {
		blocks = append(blocks, from.Expects...)
	}
	for _, blk := range blocks {
		if len(blk.Claims) == 0 {
			c.errorf(blk.Pos, "expect: state at least one claim, e.g. expect { sink_1 > 50 }")
		}
		for _, cl := range blk.Claims {
			nerr := len(c.errs)
			e := Expectation{Pos: cl.Pos, Claim: cl.String(), Disagrees: cl.Disagrees, Op: cl.Op,
				Left: c.terms(cl.Left, x), Right: c.terms(cl.Right, x)}
			if !namesMetric(cl.Left) && !namesMetric(cl.Right) {
				c.errorf(cl.Pos, "expect: %s compares numbers only; name a metric, e.g. sink_1 > 50", e.Claim)
			}
			if len(c.errs) == nerr {
				out = append(out, e)
			}
		}
	}
	return out
}

func namesMetric(s *dsl.Sum) bool {
	return slices.ContainsFunc(s.Terms, func(t *dsl.Term) bool { return t.Metric != nil })
}

func (c *compiler) terms(s *dsl.Sum, x *Experiment) []Term {
	var out []Term
	for _, t := range s.Terms {
		if t.Number != nil {
			out = append(out, Term{Neg: t.Neg, Const: t.Number.Float})
			continue
		}
		if q := c.quantity(t.Metric, x); q != nil {
			out = append(out, Term{Neg: t.Neg, Quantity: q})
		}
	}
	return out
}

// quantity checks a metric reference: its name and arguments, its selector
// against the experiment's axes, and that the runs it selects measure it.
func (c *compiler) quantity(m *dsl.MetricRef, x *Experiment) *Quantity {
	q := &Quantity{Pos: m.Pos, Text: m.String()}
	if !c.metricName(m, q) {
		return nil
	}
	runs, ok := c.selectRuns(m, x)
	if !ok {
		return nil
	}
	for _, r := range runs {
		q.Runs = append(q.Runs, r.ID())
	}
	epsArg, ok := c.metricArgs(m, q)
	if !ok {
		return nil
	}
	if q.Metric != SinkK && q.Metric != SinkSlot {
		return q
	}
	if !c.metricEps(m, epsArg, q, runs) {
		return nil
	}
	for _, r := range runs {
		switch {
		case q.Metric == SinkK && !slices.Contains(MeasuredPositions(r), q.K):
			c.errorf(m.Pos, "%s: Sink_%d is not measured by %s; add %d to measure { sink [...] }", m.Name, q.K, runName(r), q.K)
			return nil
		case q.Metric == SinkSlot && r.Model.Slots() == 0:
			c.errorf(m.Pos, "sink_star: %s has no slot column (a key bias, KV bias, sink token or sink logit), so no Sink*", runName(r))
			return nil
		}
	}
	return q
}

// metricName resolves the metric's name (sink_K for any K >= 1).
func (c *compiler) metricName(m *dsl.MetricRef, q *Quantity) bool {
	if k, ok := strings.CutPrefix(m.Name, "sink_"); ok && k != "star" {
		n, err := strconv.Atoi(k)
		if err != nil || n < 1 || strconv.Itoa(n) != k {
			c.errorf(m.Pos, "unknown metric %q: write sink_K with a position K >= 1, e.g. sink_1", m.Name)
			return false
		}
		q.Metric, q.K = SinkK, n
		return true
	}
	var names []string
	for _, em := range expectMetrics {
		if em.Name == m.Name && em.Metric != SinkK {
			q.Metric = em.Metric
			return true
		}
		names = append(names, em.Name)
	}
	c.errorf(m.Pos, "unknown metric %q: expected %s%s", m.Name, oneOf(names), didYouMean(m.Name, append(names, "sink_1")))
	return false
}

// metricArgs reads a metric's arguments: `runs` (every metric) into
// q.Reduce, and returns `eps` (the sink scores') for metricEps.
func (c *compiler) metricArgs(m *dsl.MetricRef, q *Quantity) (eps *dsl.Arg, ok bool) {
	names := []string{"runs"}
	if q.Metric == SinkK || q.Metric == SinkSlot {
		names = []string{"eps", "runs"}
	}
	var seen []string
	for _, a := range m.Args {
		switch {
		case slices.Contains(seen, a.Name):
			c.errorf(a.Pos, "%s: argument %s is given twice", m.Name, a.Name)
			return nil, false
		case !slices.Contains(names, a.Name):
			c.errorf(a.Pos, "%s: unknown argument %q; it takes %s%s", m.Name, a.Name, strings.Join(names, " and "), didYouMean(a.Name, names))
			return nil, false
		}
		seen = append(seen, a.Name)
		if a.Name == "eps" {
			eps = a
			continue
		}
		id, isIdent := a.Value.(*dsl.Ident)
		if !isIdent || !slices.Contains(reductions, id.Name) {
			c.errorf(a.Value.Position(), "%s: runs must be %s (how the selected runs' values combine), found %s", m.Name, oneOf(reductions), dsl.ExprString(a.Value))
			return nil, false
		}
		q.Reduce = Reduction(slices.Index(reductions, id.Name))
	}
	return eps, true
}

// metricEps resolves the eps argument of a sink score: measured by every
// selected run; by default the first of measure.eps, shared by them all.
func (c *compiler) metricEps(m *dsl.MetricRef, epsArg *dsl.Arg, q *Quantity, runs []config.Run) bool {
	for _, r := range runs {
		if len(r.Measure.Eps) == 0 {
			c.errorf(m.Pos, "%s: %s measures no sink score: its measure.eps is empty", m.Name, runName(r))
			return false
		}
	}
	if epsArg == nil {
		q.Eps = runs[0].Measure.Eps[0]
		for _, r := range runs {
			if r.Measure.Eps[0] != q.Eps {
				c.errorf(m.Pos, "%s: the selected runs differ in their first measure.eps (%g and %g); write %s(eps: ...)", m.Name, q.Eps, r.Measure.Eps[0], m.Name)
				return false
			}
		}
		return true
	}
	n, ok := epsArg.Value.(*dsl.Number)
	if !ok {
		c.errorf(epsArg.Value.Position(), "%s: eps must be a number, found %s", m.Name, dsl.ExprString(epsArg.Value))
		return false
	}
	q.Eps = n.Float
	for _, r := range runs {
		if !slices.Contains(r.Measure.Eps, q.Eps) {
			c.errorf(n.Pos, "%s: eps %s is not measured by %s; measure.eps is %v", m.Name, n.Text, runName(r), r.Measure.Eps)
			return false
		}
	}
	return true
}

// selectRuns returns the runs of x that the metric's selector picks: every
// `path: value` must name one of x's axes and one of that axis's values.
func (c *compiler) selectRuns(m *dsl.MetricRef, x *Experiment) ([]config.Run, bool) {
	type pick struct{ path, value string }
	var picks []pick
	ok := true
	for _, s := range m.Selector {
		path, found := c.selectorAxis(s, x)
		if !found {
			ok = false
			continue
		}
		if slices.ContainsFunc(picks, func(p pick) bool { return p.path == path }) {
			c.errorf(s.Pos, "%s is selected twice in %s", path, m.String())
			ok = false
			continue
		}
		value, found := c.selectorValue(s, path, x)
		if !found {
			ok = false
			continue
		}
		picks = append(picks, pick{path, value})
	}
	if !ok {
		return nil, false
	}
	var runs []config.Run
	for _, r := range x.Runs {
		if !slices.ContainsFunc(picks, func(p pick) bool { return variedValue(r, p.path) != p.value }) {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		c.errorf(m.Pos, "%s selects no run of experiment %q: no run has all of these values", m.String(), x.Name)
		return nil, false
	}
	return runs, true
}

// selectorAxis resolves a selector's path to one of the experiment's axes:
// the axis's full path or its last components (`attention` for
// model.attention), or `variant`.
func (c *compiler) selectorAxis(s *dsl.Select, x *Experiment) (string, bool) {
	var matches []string
	for _, a := range x.Axes {
		if a == s.Path || strings.HasSuffix(a, "."+s.Path) {
			matches = append(matches, a)
		}
	}
	switch {
	case len(matches) == 1:
		return matches[0], true
	case len(matches) > 1:
		c.errorf(s.Pos, "%q is ambiguous in experiment %q: write %s", s.Path, x.Name, strings.Join(matches, " or "))
		return "", false
	case len(x.Axes) == 0:
		c.errorf(s.Pos, "experiment %q varies nothing: its metrics take no selector", x.Name)
		return "", false
	}
	short := make([]string, len(x.Axes))
	for i, a := range x.Axes {
		short[i] = a[strings.LastIndex(a, ".")+1:]
	}
	hint := didYouMean(s.Path, short)
	if hint == "" {
		hint = didYouMean(s.Path, x.Axes)
	}
	c.errorf(s.Pos, "%s is not varied in experiment %q: it varies %s%s", s.Path, x.Name, strings.Join(x.Axes, ", "), hint)
	return "", false
}

// selectorValue checks a selector's value against the axis's values and
// returns it in the canonical form the runs record.
func (c *compiler) selectorValue(s *dsl.Select, path string, x *Experiment) (string, bool) {
	var values []string
	for _, r := range x.Runs {
		if v := variedValue(r, path); !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	var canon string
	if path == variantPath {
		id, ok := s.Value.(*dsl.Ident)
		if !ok {
			c.errorf(s.Value.Position(), "variant: expected a variant's name, found %s", dsl.ExprString(s.Value))
			return "", false
		}
		canon = id.Name
	} else {
		var errs ErrorList
		t, ok := convert(schema.Lookup(path), s.Value, &errs)
		c.addAll(errs)
		if !ok {
			return "", false
		}
		canon = t.canon
	}
	if !slices.Contains(values, canon) {
		c.errorf(s.Value.Position(), "%s has no value %s in experiment %q: it varies %s%s", path, canon, x.Name,
			strings.Join(values, ", "), didYouMean(canon, values))
		return "", false
	}
	return canon, true
}

// variedValue is the run's canonical value of a varied path, or "".
func variedValue(r config.Run, path string) string {
	for _, s := range r.Varied {
		if s.Path == path {
			return s.Value
		}
	}
	return ""
}

// runName names a run in a message by its varied values.
func runName(r config.Run) string {
	if len(r.Varied) == 0 {
		return "the run"
	}
	return "the run with " + describeVaried(r.Varied)
}

// MeasuredPositions are the positions k whose Sink_k a run reports: 1 and
// the positions of runtime/measure.OptionsFor (a test ties them).
func MeasuredPositions(r config.Run) []int {
	ks := []int{1}
	add := func(k int) {
		if k >= 1 && k <= r.Measure.ProbeLength && !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	for _, k := range r.Measure.Sink {
		add(k)
	}
	if ft := r.Data.FixedToken; ft.Kind == "fixed" {
		add(ft.Position)
	}
	if rt := r.Data.RandomTokens; rt.Kind == "span" {
		add(rt.To)
	}
	return ks
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

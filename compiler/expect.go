package compiler

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/dsl"
)

// configPos is a position as the claim types carry it.
func configPos(p dsl.Pos) config.Pos { return config.Pos{File: p.File, Line: p.Line, Col: p.Col} }

// expectations checks the expect blocks of an expanded experiment.
func (c *compiler) expectations(es *expState, x *Experiment) []config.Expectation {
	var out []config.Expectation
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
			e := config.Expectation{Pos: configPos(cl.Pos), Claim: cl.String(), Disagrees: cl.Disagrees, Op: cl.Op,
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

func (c *compiler) terms(s *dsl.Sum, x *Experiment) []config.Term {
	var out []config.Term
	for _, t := range s.Terms {
		if t.Number != nil {
			out = append(out, config.Term{Neg: t.Neg, Const: t.Number.Float})
			continue
		}
		if q := c.quantity(t.Metric, x); q != nil {
			out = append(out, config.Term{Neg: t.Neg, Quantity: q})
		}
	}
	return out
}

// quantity checks a metric reference against the metric catalogue's claim
// names (config.ClaimNames): its name and arguments, its selector against
// the experiment's axes, and that the runs it selects measure it.
func (c *compiler) quantity(m *dsl.MetricRef, x *Experiment) *config.Quantity {
	q := &config.Quantity{Pos: configPos(m.Pos), Text: m.String(), At: config.Point{}}
	claim, ok := c.metricName(m, q)
	if !ok {
		return nil
	}
	runs, ok := c.selectRuns(m, x)
	if !ok {
		return nil
	}
	for _, r := range runs {
		q.Runs = append(q.Runs, r.ID())
	}
	args, ok := c.metricArgs(m, claim, q)
	if !ok {
		return nil
	}
	for _, a := range claim.Args {
		if !c.claimArg(m, a, args[a.Coord], q, runs) {
			return nil
		}
	}
	if claim.Check != nil {
		for _, r := range runs {
			if msg := claim.Check(r, q.At, runName(r)); msg != "" {
				c.errorf(m.Pos, "%s: %s", m.Name, msg)
				return nil
			}
		}
	}
	return q
}

// metricName resolves the metric's name: a claim name of the catalogue, or
// one that carries a coordinate in the name (sink_K: sink_1, sink_2, ...).
func (c *compiler) metricName(m *dsl.MetricRef, q *config.Quantity) (config.ClaimName, bool) {
	claims := config.ClaimNames()
	found := func(mc config.MetricClaim) (config.ClaimName, bool) {
		q.Metric, q.Claim, q.Over = mc.Metric.Name, mc.Claim.Name, mc.Claim.Over
		maps.Copy(q.At, mc.Claim.At)
		return mc.Claim, true
	}
	for _, mc := range claims {
		if _, pattern := mc.Claim.Pattern(); !pattern && mc.Claim.Name == m.Name {
			return found(mc)
		}
	}
	var names, suggest []string
	for _, mc := range claims {
		cl := mc.Claim
		names = append(names, cl.Name)
		prefix, pattern := cl.Pattern()
		if !pattern {
			suggest = append(suggest, cl.Name)
			continue
		}
		suggest = append(suggest, prefix+"1")
		written, ok := strings.CutPrefix(m.Name, prefix)
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(written); err == nil && n >= 1 && strconv.Itoa(n) == written {
			q.At[cl.NameCoord] = n
			return found(mc)
		}
		c.errorf(m.Pos, "unknown metric %q: write %s with %s K >= 1, e.g. %s1", m.Name, cl.Name, cl.NameWhat, prefix)
		return config.ClaimName{}, false
	}
	c.errorf(m.Pos, "unknown metric %q: expected %s%s", m.Name, oneOf(names), didYouMean(m.Name, append(names, suggest...)))
	return config.ClaimName{}, false
}

// metricArgs reads a metric's arguments: `runs` (every metric) into
// q.Reduce, and returns the claim name's coordinate arguments (`eps`) by
// coordinate, for claimArg.
func (c *compiler) metricArgs(m *dsl.MetricRef, claim config.ClaimName, q *config.Quantity) (map[string]*dsl.Arg, bool) {
	var names []string
	for _, a := range claim.Args {
		names = append(names, a.Coord)
	}
	names = append(names, "runs")
	args := map[string]*dsl.Arg{}
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
		if a.Name != "runs" {
			args[a.Name] = a
			continue
		}
		id, isIdent := a.Value.(*dsl.Ident)
		r, known := config.Reduction(0), false
		if isIdent {
			r, known = config.ParseReduction(id.Name)
		}
		if !known {
			c.errorf(a.Value.Position(), "%s: runs must be %s (how the selected runs' values combine), found %s", m.Name, oneOf(config.Reductions()), dsl.ExprString(a.Value))
			return nil, false
		}
		q.Reduce = r
	}
	return args, true
}

// claimArg resolves a coordinate argument of a claim name (the eps of a
// sink score): measured by every selected run; by default the first value
// they measure, which they must share.
func (c *compiler) claimArg(m *dsl.MetricRef, a config.ClaimArg, written *dsl.Arg, q *config.Quantity, runs []config.Run) bool {
	for _, r := range runs {
		if len(a.Measured(r)) == 0 {
			c.errorf(m.Pos, "%s: %s measures no %s: its %s is empty", m.Name, runName(r), a.What, a.Setting)
			return false
		}
	}
	if written == nil {
		first := a.Measured(runs[0])[0]
		for _, r := range runs {
			if other := a.Measured(r)[0]; !config.SameCoord(other, first) {
				c.errorf(m.Pos, "%s: the selected runs differ in their first %s (%v and %v); write %s(%s: ...)", m.Name, a.Setting, first, other, m.Name, a.Coord)
				return false
			}
		}
		q.At[a.Coord] = first
		return true
	}
	// The written value is of the kind of the values measured.
	var value any
	var text, what string
	switch measured := a.Measured(runs[0])[0]; measured.(type) {
	case int:
		what = "an integer"
		if v, ok := written.Value.(*dsl.Number); ok && v.IsInt {
			value, text = int(v.Int), v.Text
		}
	case string:
		what = "a name"
		if v, ok := written.Value.(*dsl.Ident); ok {
			value, text = v.Name, v.Name
		}
	default:
		what = "a number"
		if v, ok := written.Value.(*dsl.Number); ok {
			value, text = v.Float, v.Text
		}
	}
	if value == nil {
		c.errorf(written.Value.Position(), "%s: %s must be %s, found %s", m.Name, a.Coord, what, dsl.ExprString(written.Value))
		return false
	}
	for _, r := range runs {
		if !slices.ContainsFunc(a.Measured(r), func(v any) bool { return config.SameCoord(v, value) }) {
			c.errorf(written.Value.Position(), "%s: %s %s is not measured by %s; %s is %v", m.Name, a.Coord, text, runName(r), a.Setting, a.Measured(r))
			return false
		}
	}
	q.At[a.Coord] = value
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

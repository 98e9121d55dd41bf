package results

import (
	"fmt"
	"math"
	"strings"

	"github.com/sinkrun/sinkrun/config"
)

// worstReduction is, for each quantity of e, the reduction that makes the
// claim hardest to hold: the smallest value of a term that should be large
// (on the greater side of the comparison, added), the largest of one that
// should be small. A claim whose every quantity reads its worst reduction
// holds only if it holds on every run.
func worstReduction(e config.Expectation) map[*config.Quantity]config.Reduction {
	greaterLeft := e.Op == ">" || e.Op == ">="
	out := map[*config.Quantity]config.Reduction{}
	side := func(ts []config.Term, left bool) {
		for _, t := range ts {
			if t.Quantity == nil {
				continue
			}
			wantLarge := left == greaterLeft
			if t.Neg {
				wantLarge = !wantLarge
			}
			if wantLarge {
				out[t.Quantity] = config.Min
			} else {
				out[t.Quantity] = config.Max
			}
		}
	}
	side(e.Left, true)
	side(e.Right, false)
	return out
}

// Basis says what decided an evaluated claim's verdict: the means over the
// runs (and, when the claim holds on them, whether it holds on every run
// too: its least favourable runs), every run (runs: min or max, the
// least favourable reduction), or a mix, quantity by quantity. "" for a
// claim that was not evaluated or whose metrics have one run each.
func (r ExpectResult) Basis() string {
	if r.Verdict == NotEvaluated || len(r.Values) == 0 {
		return ""
	}
	several := false
	for _, v := range r.Values {
		several = several || v.N > 1
	}
	if !several {
		return "decided on one run per metric"
	}
	worst := worstReduction(r.Expectation)
	allMean, allWorst := true, true
	for _, v := range r.Values {
		if v.N <= 1 {
			continue
		}
		allMean = allMean && v.Quantity.Reduce == config.Mean
		allWorst = allWorst && v.Quantity.Reduce == worst[v.Quantity]
	}
	switch {
	case allWorst:
		return "decided on every run: each metric is its least favourable run's (runs: min or max)"
	case allMean:
		s := "decided on the means over the runs"
		if r.Verdict != Pass && r.Verdict != Holds {
			return s
		}
		left, right, holds := r.Expectation.Eval(func(q *config.Quantity) float64 {
			for _, v := range r.Values {
				if v.Quantity == q {
					if worst[q] == config.Min {
						return v.Min
					}
					return v.Max
				}
			}
			return math.NaN()
		})
		cmp := fmt.Sprintf("%s %s %s", fmtNum(left), r.Expectation.Op, fmtNum(right))
		if holds {
			return s + "; every run agrees (its least favourable runs give " + cmp + ")"
		}
		return s + "; NOT on every run: its least favourable runs give " + cmp + " (runs: min or max claims every run)"
	}
	var parts []string
	for _, v := range r.Values {
		switch {
		case v.N <= 1:
			parts = append(parts, v.Quantity.Text+": one run")
		case v.Quantity.Reduce == config.Mean:
			parts = append(parts, fmt.Sprintf("%s: the mean of %d runs", v.Quantity.Text, v.N))
		case v.Quantity.Reduce == worst[v.Quantity]:
			parts = append(parts, fmt.Sprintf("%s: every one of %d runs", v.Quantity.Text, v.N))
		default:
			parts = append(parts, fmt.Sprintf("%s: the most favourable of %d runs", v.Quantity.Text, v.N))
		}
	}
	return "decided on " + strings.Join(parts, "; ")
}

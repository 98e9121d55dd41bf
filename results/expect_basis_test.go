package results

import (
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/compiler"
)

// TestBasis: each verdict says what decided it. A mean carried by one seed
// of three (33, 0, 0: 11.00 ± 19.05 > 10) holds on the mean only, and the
// line says so; runs: min decides on every run.
func TestBasis(t *testing.T) {
	exps, err := compiler.Compile(map[string][]byte{"b.sink": []byte(`experiment b {
  model { layers 1; heads 2; d_model 16 }
  train { steps 10; seeds [1, 2, 3] }
  vary model.bias [none, k]
  expect {
    sink_1[bias: none] > 10
    sink_1(runs: min)[bias: none] > 10
    sink_1[bias: none] > sink_1[bias: k] + 5
    sink_1[bias: none] - sink_1(runs: max)[bias: k] > 5
    sink_1(runs: max)[bias: none] > 10
  }
}`)})
	if err != nil {
		t.Fatal(err)
	}
	claims := exps[0].Expectations
	// The values of the quantities, by claim: mean, min and max over 3 runs.
	type vals struct{ mean, min, max float64 }
	seedCarried, none := vals{11, 0, 33}, vals{0, 0, 0}
	for _, tc := range []struct {
		claim   int
		values  []vals
		n       int
		verdict Verdict
		want    string
	}{
		{0, []vals{seedCarried}, 3, Pass, "decided on the means over the runs; NOT on every run: its least favourable runs give 0.00 > 10.00 (runs: min or max claims every run)"},
		{0, []vals{{50, 40, 60}}, 3, Pass, "decided on the means over the runs; every run agrees (its least favourable runs give 40.00 > 10.00)"},
		{0, []vals{{5, 0, 15}}, 3, Fail, "decided on the means over the runs"},
		{1, []vals{seedCarried}, 3, Fail, "decided on every run: each metric is its least favourable run's (runs: min or max)"},
		{2, []vals{{50, 40, 60}, {10, 0, 40}}, 3, Pass, "NOT on every run: its least favourable runs give 40.00 > 45.00"},
		{3, []vals{{50, 40, 60}, none}, 3, Pass, "decided on sink_1[bias: none]: the mean of 3 runs; sink_1(runs: max)[bias: k]: every one of 3 runs"},
		{4, []vals{seedCarried}, 3, Pass, "decided on sink_1(runs: max)[bias: none]: the most favourable of 3 runs"},
		{0, []vals{seedCarried}, 1, Pass, "decided on one run per metric"},
		{0, []vals{seedCarried}, 3, NotEvaluated, ""},
	} {
		e := claims[tc.claim]
		r := ExpectResult{Expectation: e, Verdict: tc.verdict}
		for i, q := range e.Quantities() {
			v := tc.values[i]
			r.Values = append(r.Values, QuantityValue{Quantity: q, Mean: v.mean, Min: v.min, Max: v.max, N: tc.n})
		}
		if got := r.Basis(); !strings.Contains(got, tc.want) || (tc.want == "" && got != "") {
			t.Errorf("%s (%v, %d runs): Basis() = %q, want %q", e.Claim, tc.verdict, tc.n, got, tc.want)
		}
	}
}

package results

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

const fakeStudy = `experiment fake {
  model { layers 2; heads 2; d_model 16 }
  train { steps 100; seeds [1, 2] }
  measure { eps [0.3, 0.5]; sink [2] }
  vary model.bias [none, k]
  expect {
    sink_1[bias: none] > sink_1[bias: k] + 50
    sink_star[bias: k] > 50
    sink_2 < 1
    massive > 10
    disagrees sink_1[bias: k] > 10
    val_loss[bias: k] > 5
  }
}
`

// writeFakeStudy compiles fakeStudy and writes results for its runs (all
// but skip) without training: Sink_1 91 and 92 (seeds 1 and 2) without a
// bias and 0 with the key bias, whose slot scores 80; Sink_2 0; alpha_1 0.4;
// val loss 1.2; massive ratios 5 and 20 over the layers. Earlier steps hold
// other values, which the last measurement must override.
func writeFakeStudy(t *testing.T, skip int) (string, []*config.Experiment) {
	t.Helper()
	return writeStudy(t, fakeStudy, skip)
}

// writeStudy writes writeFakeStudy's results for the runs of src, a study
// with fakeStudy's grid and other claims.
func writeStudy(t *testing.T, src string, skip int) (string, []*config.Experiment) {
	t.Helper()
	exps, err := compiler.Compile(map[string][]byte{"fake.sink": []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, r := range exps[0].Runs {
		if i == skip {
			continue
		}
		run := table.NewRun(r, "go", time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC))
		run.Status = table.StatusDone
		id := run.ID
		sink1 := 0.0
		if r.Model.Bias.Kind != "k" {
			sink1 = 90 + float64(r.Seed)
		}
		m := func(step int64, metric string, k int32, eps float64, layer int32, v float64) table.Metric {
			return table.Metric{RunID: id, Step: step, Metric: metric, K: k, Eps: eps, Layer: layer, Head: -1, Value: v}
		}
		nan := math.NaN()
		var rows []table.Metric
		for _, step := range []int64{50, 100} {
			early := step == 50
			val := func(final, before float64) float64 {
				if early {
					return before
				}
				return final
			}
			rows = append(rows,
				m(step, config.MetricSink, 1, 0.3, -1, val(sink1, 7)),
				m(step, config.MetricSink, 1, 0.5, -1, val(sink1/2, 7)),
				m(step, config.MetricSink, 2, 0.3, -1, val(0, 7)),
				m(step, config.MetricMeanAlpha, 1, nan, -1, val(0.4, 0.1)),
				m(step, config.MetricValLoss, -1, nan, -1, val(1.2, 3)),
				m(step, config.MetricMassiveHidden, -1, nan, 0, val(5, 1)),
				m(step, config.MetricMassiveHidden, -1, nan, 1, val(20, 100)),
			)
			if r.Model.Slots() > 0 {
				rows = append(rows, m(step, config.MetricSink, 0, 0.3, -1, val(80, 7)))
			}
		}
		if err := table.Write(dir, run, rows, nil); err != nil {
			t.Fatal(err)
		}
	}
	return dir, exps
}

func TestCheckExpectations(t *testing.T) {
	dir, exps := writeFakeStudy(t, -1)
	rs, err := CheckExpectations(dir, exps)
	if err != nil {
		t.Fatal(err)
	}
	want := []Verdict{Pass, Pass, Pass, Pass, Known, Fail}
	if len(rs) != len(want) {
		t.Fatalf("%d results", len(rs))
	}
	for i, r := range rs {
		if r.Verdict != want[i] {
			t.Errorf("%s: %v (%s), want %v", r.Expectation.Claim, r.Verdict, r.Why, want[i])
		}
	}
	if v := rs[0].Values[0]; v.Mean != 91.5 || math.Abs(v.SD-math.Sqrt(0.5)) > 1e-12 || v.N != 2 || rs[0].Left != 91.5 || rs[0].Right != 50 {
		t.Errorf("sink_1[bias: none]: %+v, sides %v %v", v, rs[0].Left, rs[0].Right)
	}
	if v := rs[3].Values[0]; v.Mean != 20 || v.N != 4 {
		t.Errorf("massive: %+v", v)
	}
	var b strings.Builder
	if err := WriteExpectations(&b, rs); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"pass  fake.sink:7:5: sink_1[bias: none] > sink_1[bias: k] + 50\n" +
			"      91.50 > 50.00: sink_1[bias: none] = 91.50 ± 0.707 (2 runs), sink_1[bias: k] = 0.00 ± 0.00 (2 runs)\n",
		"known fake.sink:11:5: disagrees sink_1[bias: k] > 10\n",
		"FAIL  fake.sink:12:5: val_loss[bias: k] > 5\n      1.20 > 5.00: val_loss[bias: k] = 1.20 ± 0.00 (2 runs)\n",
		"expectations: 4 pass, 1 FAIL, 1 known to disagree, 0 HOLD though marked disagrees, 0 not evaluated\n",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, b.String())
		}
	}
}

// TestReductions: `runs: min` and `max` read one run's value where the mean
// would decide the other way (Sink_1 91 and 92 over the seeds, mean 91.5).
func TestReductions(t *testing.T) {
	claims := fakeStudy[strings.Index(fakeStudy, "  expect {"):]
	src := strings.Replace(fakeStudy, claims, `  expect {
    sink_1(runs: min)[bias: none] > 91.2
    sink_1(runs: max)[bias: none] > 91.8
    sink_1(runs: max)[bias: none] - sink_1(runs: min)[bias: none] < 1.5
  }
}
`, 1)
	dir, exps := writeStudy(t, src, -1)
	rs, err := CheckExpectations(dir, exps)
	if err != nil {
		t.Fatal(err)
	}
	want := []Verdict{Fail, Pass, Pass}
	if len(rs) != len(want) {
		t.Fatalf("%d results", len(rs))
	}
	for i, r := range rs {
		if r.Verdict != want[i] {
			t.Errorf("%s: %v (%s), want %v", r.Expectation.Claim, r.Verdict, r.Why, want[i])
		}
	}
	if rs[2].Left != 1 {
		t.Errorf("max - min = %v, want 1", rs[2].Left)
	}
	var b strings.Builder
	if err := WriteExpectations(&b, rs); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"FAIL  fake.sink:7:5: sink_1(runs: min)[bias: none] > 91.2\n      91.00 > 91.20: sink_1(runs: min)[bias: none] = 91.00 (min; mean 91.50 ± 0.707) (2 runs)\n",
		"pass  fake.sink:8:5: sink_1(runs: max)[bias: none] > 91.8\n      92.00 > 91.80: sink_1(runs: max)[bias: none] = 92.00 (max; mean 91.50 ± 0.707) (2 runs)\n",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, b.String())
		}
	}
}

// TestReduce: every reduction reads the finite values that the line's mean
// and run count are computed from; a NaN does not turn the mean into NaN.
func TestReduce(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		r    config.Reduction
		vs   []float64
		want float64
	}{
		{config.Mean, []float64{1, 2, 6}, 3},
		{config.Mean, []float64{1, nan, 3}, 2},
		{config.Min, []float64{nan, 5, 2}, 2},
		{config.Max, []float64{4, inf, 1}, 4},
		{config.Max, []float64{nan, nan}, nan},
	} {
		got := reduce(tc.r, tc.vs)
		if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%v %v: %v, want %v", tc.r, tc.vs, got, tc.want)
		}
		if st := statOf(tc.vs); tc.r == config.Mean && got != st.mean {
			t.Errorf("mean %v: %v, statOf says %v", tc.vs, got, st.mean)
		}
	}
}

func TestCheckExpectationsMissingRun(t *testing.T) {
	dir, exps := writeFakeStudy(t, 3) // the second seed of bias k
	rs, err := CheckExpectations(dir, exps)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Verdict != NotEvaluated || rs[0].Why != "sink_1[bias: k]: 1 of 2 runs have no results" || !rs[0].Verdict.Failed() {
		t.Errorf("%+v", rs[0])
	}
	if rs[2].Verdict != NotEvaluated { // sink_2 over the whole grid
		t.Errorf("%+v", rs[2])
	}
	var b strings.Builder
	if err := WriteExpectations(&b, rs[:1]); err != nil {
		t.Fatal(err)
	}
	if want := "n/a   fake.sink:7:5: sink_1[bias: none] > sink_1[bias: k] + 50\n      not evaluated: sink_1[bias: k]: 1 of 2 runs have no results\n"; !strings.HasPrefix(b.String(), want) {
		t.Errorf("got %q", b.String())
	}
}

func TestVerdicts(t *testing.T) {
	for v, want := range map[Verdict]bool{Pass: false, Fail: true, Known: false, Holds: false, NotEvaluated: true} {
		if v.Failed() != want {
			t.Errorf("%v.Failed() = %v", v, v.Failed())
		}
	}
}

// TestTies: claims whose two sides are equal, read from the files (Sink_2
// is 0 in every run, the key bias's val loss 1.2 in both seeds): `>=` and
// `<=` hold at a tie, `>` and `<` do not; each next to a case the
// comparison decides the other way.
func TestTies(t *testing.T) {
	claims := fakeStudy[strings.Index(fakeStudy, "  expect {"):]
	src := strings.Replace(fakeStudy, claims, `  expect {
    sink_2 >= 0
    sink_2 <= 0
    sink_2 > 0
    sink_2 < 0
    val_loss[bias: k] >= 1.2
    val_loss[bias: k] <= 1.2
    val_loss[bias: k] >= 2
    val_loss[bias: k] <= 1
    val_loss[bias: k] <= 2
    val_loss[bias: k] >= 1
  }
}
`, 1)
	dir, exps := writeStudy(t, src, -1)
	rs, err := CheckExpectations(dir, exps)
	if err != nil {
		t.Fatal(err)
	}
	want := []Verdict{Pass, Pass, Fail, Fail, Pass, Pass, Fail, Fail, Pass, Pass}
	if len(rs) != len(want) {
		t.Fatalf("%d results", len(rs))
	}
	for i, r := range rs {
		if r.Verdict != want[i] {
			t.Errorf("%s: %v (%v %s %v), want %v", r.Expectation.Claim, r.Verdict, r.Left, r.Expectation.Op, r.Right, want[i])
		}
	}
}

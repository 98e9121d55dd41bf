package compiler

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/dsl"
	"github.com/sinkrun/sinkrun/runtime/measure"
)

const expectBase = `experiment a {
  model { layers 1; heads 2; d_model 32 }
  data { context 32; fixed_token fixed(position: 2) }
  train { steps 10; seeds [1, 2] }
  measure { eps [0.3, 0.5]; sink [3]; probe_length 32 }
  vary model.attention [softmax, sigmoid]
  variants { plain {}; kbias { model { bias k } } }
`

func TestExpectations(t *testing.T) {
	src := expectBase + `  expect {
    sink_1[attention: softmax] > sink_1[attention: sigmoid] + 50   # paper
    disagrees sink_star(eps: 0.5)[variant: kbias, model.attention: softmax] >= 50
    sink_2 - alpha_1 < 5 -val_loss
    sink_1(runs: min, eps: 0.5)[attention: softmax] > val_loss(runs: max)
  }
}
`
	exps, err := Compile(map[string][]byte{"t.sink": []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	es := exps[0].Expectations
	if len(es) != 4 {
		t.Fatalf("%d expectations", len(es))
	}
	if l, r := es[3].Left[0].Quantity, es[3].Right[0].Quantity; l.Reduce != config.Min || !l.At.Has(config.Point{"eps": 0.5}) ||
		r.Reduce != config.Max || r.Metric != config.MetricValLoss || es[0].Left[0].Quantity.Reduce != config.Mean {
		t.Errorf("reductions %+v %+v", l, r)
	}
	e0, e1, e2 := es[0], es[1], es[2]
	if e0.Claim != "sink_1[attention: softmax] > sink_1[attention: sigmoid] + 50" || e0.Pos.Line != 9 || e0.Disagrees {
		t.Errorf("claim 0 %+v", e0)
	}
	l, r := e0.Left[0].Quantity, e0.Right[0].Quantity
	if l.Metric != config.MetricSink || l.Claim != "sink_K" || !reflect.DeepEqual(l.At, config.Point{"k": 1, "eps": 0.3}) ||
		len(l.Runs) != 4 || len(r.Runs) != 4 || slices.Equal(l.Runs, r.Runs) {
		t.Errorf("quantities %+v %+v", l, r)
	}
	if e0.Right[1].Const != 50 || e0.Right[1].Neg {
		t.Errorf("constant %+v", e0.Right[1])
	}
	if q := e1.Left[0].Quantity; !e1.Disagrees || q.Claim != "sink_star" || !reflect.DeepEqual(q.At, config.Point{"k": 0, "eps": 0.5}) || len(q.Runs) != 2 {
		t.Errorf("claim 1 %+v", q)
	}
	if q := e2.Left[0].Quantity; q.Claim != "sink_K" || !q.At.Has(config.Point{"k": 2}) || len(q.Runs) != 8 || !e2.Left[1].Neg ||
		e2.Left[1].Quantity.Metric != config.MetricMeanAlpha || !reflect.DeepEqual(e2.Left[1].Quantity.At, config.Point{"k": 1}) {
		t.Errorf("claim 2 %+v", e2.Left)
	}
	vals := map[string]float64{"sink_K": 10, "alpha_1": 0.5, "val_loss": 1.5}
	left, right, holds := e2.Eval(func(q *config.Quantity) float64 { return vals[q.Claim] })
	if left != 9.5 || right != 3.5 || holds {
		t.Errorf("eval: %v %v %v", left, right, holds)
	}
	if qs := e0.Quantities(); len(qs) != 2 || qs[0] != l {
		t.Errorf("quantities %v", qs)
	}
}

func TestExpectationErrors(t *testing.T) {
	for _, tc := range []struct{ claim, want string }{
		{"sink1 > 5", `t.sink:9:5: unknown metric "sink1": expected ` + oneOf(claimNames()) + ` (did you mean "sink_1"?)`},
		{"sink_0 > 5", `t.sink:9:5: unknown metric "sink_0": write sink_K with a position K >= 1, e.g. sink_1`},
		{"sink_4 > 5", `t.sink:9:5: sink_4: Sink_4 is not measured by the run with model.attention softmax, variant plain; add 4 to measure { sink [...] }`},
		{"sink_1[position: rope] > 5", `t.sink:9:12: position is not varied in experiment "a": it varies model.attention, variant`},
		{"sink_1[atention: softmax] > 5", `t.sink:9:12: atention is not varied in experiment "a": it varies model.attention, variant (did you mean "attention"?)`},
		{"sink_1[attention: sigmod] > 5", `t.sink:9:23: model.attention: unknown kind "sigmod": expected one of softmax, sigmoid, scaled_softmax, elu, linear, softmax1, softpick, sink_logit (did you mean "sigmoid"?)`},
		{"sink_1[attention: elu] > 5", `t.sink:9:23: model.attention has no value elu in experiment "a": it varies softmax, sigmoid`},
		{"sink_1[variant: kbas] > 5", `t.sink:9:21: variant has no value kbas in experiment "a": it varies plain, kbias (did you mean "kbias"?)`},
		{"sink_1[variant: kbias, variant: plain] > 5", `t.sink:9:28: variant is selected twice in sink_1[variant: kbias, variant: plain]`},
		{"sink_star > 5", `t.sink:9:5: sink_star: the run with model.attention softmax, variant plain has no slot column (a key bias, KV bias, sink token or sink logit), so no Sink*`},
		{"sink_1(eps: 0.4) > 5", `t.sink:9:17: sink_1: eps 0.4 is not measured by the run with model.attention softmax, variant plain; measure.eps is [0.3 0.5]`},
		{"sink_1(k: 2) > 5", `t.sink:9:12: sink_1: unknown argument "k"; it takes eps and runs`},
		{"val_loss(eps: 0.3) > 5", `t.sink:9:14: val_loss: unknown argument "eps"; it takes runs`},
		{"val_loss(run: min) > 5", `t.sink:9:14: val_loss: unknown argument "run"; it takes runs (did you mean "runs"?)`},
		{"sink_1(runs: median) > 5", `t.sink:9:18: sink_1: runs must be one of mean, min, max (how the selected runs' values combine), found median`},
		{"sink_1(runs: min, runs: max) > 5", `t.sink:9:23: sink_1: argument runs is given twice`},
		{"1 < 2", `t.sink:9:5: expect: 1 < 2 compares numbers only; name a metric, e.g. sink_1 > 50`},
	} {
		src := expectBase + "  expect {\n    " + tc.claim + "\n  }\n}\n"
		_, err := Compile(map[string][]byte{"t.sink": []byte(src)})
		var got []string
		for _, e := range asList(err) {
			got = append(got, e.Error())
		}
		if strings.Join(got, "\n") != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.claim, got, tc.want)
		}
	}
}

func TestExpectationWithoutEps(t *testing.T) {
	src := "experiment a {\n  measure { eps [] }\n  expect { sink_1 > 5; val_loss < 9 }\n}\n"
	_, err := Compile(map[string][]byte{"t.sink": []byte(src)})
	if want := "t.sink:3:12: sink_1: the run measures no sink score: its measure.eps is empty"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestMeasuredPositions ties MeasuredPositions to what the measurement
// reports.
func TestMeasuredPositions(t *testing.T) {
	exps, err := CompileFiles([]string{"../experiments/data_distribution.sink", "../experiments/masks.sink"})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range exps {
		for _, r := range x.Runs {
			want := append([]int{1}, measure.OptionsFor(r).Ks...)
			want = slices.Compact(slices.Sorted(slices.Values(want)))
			got := slices.Sorted(slices.Values(config.MeasuredPositions(r)))
			if !slices.Equal(got, want) {
				t.Errorf("%s %v: MeasuredPositions %v, measure reports %v", x.Name, r.Varied, got, want)
			}
		}
	}
}

// claimNames are the claim names of the metric catalogue.
func claimNames() []string {
	var names []string
	for _, mc := range config.ClaimNames() {
		names = append(names, mc.Claim.Name)
	}
	return names
}

// TestExpectMetricsDocumented: docs/dsl.md's table of the names of the
// expect language is the metric catalogue's (config.ClaimNames). Regenerate
// with -update.
func TestExpectMetricsDocumented(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	begin, end := "<!-- BEGIN GENERATED: expect metrics -->\n", "  <!-- END GENERATED: expect metrics -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s: markers %q and %q not found", docPath, begin, end)
	}
	want := "  | name | value |\n  | --- | --- |\n"
	for _, mc := range config.ClaimNames() {
		want += fmt.Sprintf("  | `%s` | %s ([%s](metrics.md#%s)) |\n", mc.Claim.Name, mc.Claim.Doc, mc.Metric.Name, mc.Metric.Name)
	}
	if doc[i+len(begin):j] == want {
		return
	}
	if *update || os.Getenv("SINKRUN_UPDATE_DOCS") != "" {
		if err := os.WriteFile(docPath, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the expect metrics of %s", docPath)
		return
	}
	t.Errorf("%s: the expect metrics are out of date with the metric catalogue; run: go test ./compiler -run TestExpectMetricsDocumented -update", docPath)
}

// TestClaimArgKinds: a claim's named argument takes a number for a numeric
// coordinate and a name for a named one (a mode), each checked against what
// the selected runs measure, and defaults to their first.
func TestClaimArgKinds(t *testing.T) {
	runs := []config.Run{config.Default(), config.Default()}
	arg := func(coord string, measured ...any) config.ClaimArg {
		return config.ClaimArg{Coord: coord, Doc: "d", Setting: "measure.x", What: "thing",
			Measured: func(config.Run) []any { return measured }}
	}
	at := dsl.Pos{File: "t.sink", Line: 1, Col: 5}
	written := func(v dsl.Expr) *dsl.Arg { return &dsl.Arg{Pos: at, Name: "x", Value: v} }
	for _, tc := range []struct {
		name    string
		arg     config.ClaimArg
		written *dsl.Arg
		want    any
		err     string
	}{
		{"default", arg(config.CoordEps, 0.3, 0.5), nil, 0.3, ""},
		{"number", arg(config.CoordEps, 0.3, 0.5), written(&dsl.Number{Pos: at, Text: "0.5", Float: 0.5}), 0.5, ""},
		{"integer", arg(config.CoordK, 1, 4), written(&dsl.Number{Pos: at, Text: "4", IsInt: true, Int: 4, Float: 4}), 4, ""},
		{"not an integer", arg(config.CoordK, 1, 4), written(&dsl.Number{Pos: at, Text: "2.5", Float: 2.5}), nil, "t.sink:1:5: m: k must be an integer, found 2.5"},
		{"a name for a number", arg(config.CoordEps, 0.3), written(&dsl.Ident{Pos: at, Name: "window"}), nil, "t.sink:1:5: m: eps must be a number, found window"},
		{"not measured", arg(config.CoordEps, 0.3), written(&dsl.Number{Pos: at, Text: "0.4", Float: 0.4}), nil,
			"t.sink:1:5: m: eps 0.4 is not measured by the run; measure.x is [0.3]"},
		{"nothing measured", arg(config.CoordEps), nil, nil, "t.sink:1:5: m: the run measures no thing: its measure.x is empty"},
		{"a name", arg("mode", "full", "window"), written(&dsl.Ident{Pos: at, Name: "window"}), "window", ""},
		{"a name by default", arg("mode", "full", "window"), nil, "full", ""},
		{"a number for a name", arg("mode", "full"), written(&dsl.Number{Pos: at, Text: "4", IsInt: true, Int: 4, Float: 4}), nil, "t.sink:1:5: m: mode must be a name, found 4"},
		{"a name not measured", arg("mode", "full"), written(&dsl.Ident{Pos: at, Name: "sinks"}), nil, "t.sink:1:5: m: mode sinks is not measured by the run; measure.x is [full]"},
	} {
		c := &compiler{seen: map[string]bool{}}
		q := &config.Quantity{At: config.Point{}}
		ok := c.claimArg(&dsl.MetricRef{Pos: at, Name: "m"}, tc.arg, tc.written, q, runs)
		var got []string
		for _, e := range c.errs {
			got = append(got, e.Error())
		}
		if ok != (tc.err == "") || strings.Join(got, "\n") != tc.err || ok && !config.SameCoord(q.At[tc.arg.Coord], tc.want) {
			t.Errorf("%s: ok %v, at %v, errors %q; want %v, error %q", tc.name, ok, q.At, got, tc.want, tc.err)
		}
	}
}

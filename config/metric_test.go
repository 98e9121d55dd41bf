package config

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// TestMetricCatalogue checks every entry's own consistency: what the
// readers of the catalogue rely on without checking it themselves.
func TestMetricCatalogue(t *testing.T) {
	names, finals, claims, csv := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, m := range Metrics() {
		if m.Name == "" || names[m.Name] {
			t.Errorf("metric %q: unnamed or listed twice", m.Name)
		}
		names[m.Name] = true
		if m.Title == "" || m.Doc == "" || m.Unit == "" {
			t.Errorf("%s: a title, definition and unit are required", m.Name)
		}
		if !slices.Contains(MetricTables(), m.Table) {
			t.Errorf("%s: unknown table %q", m.Name, m.Table)
		}
		if m.Cadence != AtMeasurement && m.Cadence != EveryStep {
			t.Errorf("%s: unknown cadence %q", m.Name, m.Cadence)
		}
		for i, c := range m.Coords {
			if _, ok := CoordNamed(c); !ok || slices.Index(m.Coords, c) != i {
				t.Errorf("%s: coordinate %q unknown or listed twice", m.Name, c)
			}
		}
		// Coordinates a final column or a claim fixes must be the metric's.
		checkPoint := func(what string, p Point, names ...string) {
			for c := range p {
				names = append(names, c)
			}
			for _, c := range names {
				if !slices.Contains(m.Coords, c) {
					t.Errorf("%s %s: coordinate %q is not one of the metric's %v", m.Name, what, c, m.Coords)
				}
			}
		}
		for _, f := range m.Final {
			if !strings.HasPrefix(f.Name, "final_") || finals[f.Name] || f.Doc == "" {
				t.Errorf("%s: final column %q: must start with final_, be documented and be unique", m.Name, f.Name)
			}
			finals[f.Name] = true
			if m.Table != MetricsTable {
				t.Errorf("%s: final columns copy values of the metrics table only", m.Name)
			}
			checkPoint("final column "+f.Name, f.At, f.First...)
			if f.ProxyColumn != "" && !m.Proxy {
				t.Errorf("%s: %s has a proxy column, but the metric is never a proxy score", m.Name, f.Name)
			}
			if s := f.Summary; s != nil {
				if s.Header == "" || s.CSV == "" || csv[s.CSV] {
					t.Errorf("%s: summary column of %s: header and a unique CSV name required", m.Name, f.Name)
				}
				csv[s.CSV] = true
				if k := s.EveryK; k != nil && (strings.Count(k.Header, "%d") != 1 || strings.Count(k.CSV, "%d") != 1) {
					t.Errorf("%s: summary column of %s: EveryK names need one %%d for k", m.Name, f.Name)
				}
			}
		}
		for _, c := range m.Claims {
			if c.Name == "" || claims[c.Name] || c.Doc == "" {
				t.Errorf("%s: claim name %q: unnamed, undocumented or listed twice", m.Name, c.Name)
			}
			claims[c.Name] = true
			checkPoint("claim "+c.Name, c.At)
			if c.NameCoord != "" {
				checkPoint("claim "+c.Name, nil, c.NameCoord)
				if co, _ := CoordNamed(c.NameCoord); co.Kind != CoordInt || !strings.HasSuffix(c.Name, "_K") || c.NameWhat == "" {
					t.Errorf("%s: claim %s: a name coordinate is an integer written as _K, and says what K is", m.Name, c.Name)
				}
			}
			for _, a := range c.Args {
				checkPoint("claim "+c.Name, nil, a.Coord)
				if a.Measured == nil || a.Setting == "" || a.What == "" || a.Doc == "" {
					t.Errorf("%s: claim %s: argument %s needs its measured values, setting, what and doc", m.Name, c.Name, a.Coord)
				}
			}
			if m.Table != MetricsTable {
				t.Errorf("%s: claims read the metrics table only", m.Name)
			}
		}
	}
}

func TestPick(t *testing.T) {
	nan := math.NaN()
	sv := func(step int64, metric string, at Point, v float64, proxy bool) StepValue {
		return StepValue{step, MetricValue{Metric: metric, At: at, Value: v, Proxy: proxy}}
	}
	values := []StepValue{
		sv(0, "sink", Point{"k": 1, "eps": 0.5}, 10, true),
		sv(0, "sink", Point{"k": 1, "eps": 0.3}, 20, true),
		sv(0, "sink", Point{"k": 2, "eps": 0.5}, 30, true),
		sv(100, "sink", Point{"k": 1, "eps": 0.5}, 40, true),
		sv(100, "sink", Point{"k": 1, "eps": 0.3}, 50, true),
		sv(100, "sink", Point{"k": 2, "eps": 0.5}, 60, true),
		sv(0, "massive", Point{"layer": 0}, 3, false),
		sv(0, "massive", Point{"layer": 1}, 9, false),
		sv(100, "massive", Point{"layer": 0}, 5, false),
		sv(100, "massive", Point{"layer": 1}, nan, false),
		sv(100, "massive", Point{"layer": 2}, 4, false),
		sv(1, "loss", Point{}, nan, false),
	}
	for _, tc := range []struct {
		name    string
		metric  string
		at      Point
		first   []string
		over    Reduction
		want    float64
		proxy   bool
		present bool
	}{
		{"first eps is the first measured, not the smallest", "sink", Point{"k": 1}, []string{"eps"}, Mean, 40, true, true},
		{"a written eps", "sink", Point{"k": 1, "eps": 0.3}, nil, Mean, 50, true, true},
		{"an eps read back with rounding", "sink", Point{"k": 1, "eps": 0.3 + 1e-15}, nil, Mean, 50, true, true},
		{"another position", "sink", Point{"k": 2}, []string{"eps"}, Mean, 60, true, true},
		{"not measured", "sink", Point{"k": 3}, []string{"eps"}, Mean, nan, false, false},
		{"the last step only, NaN left out", "massive", Point{}, nil, Max, 5, false, true},
		{"the last step only, smallest", "massive", Point{}, nil, Min, 4, false, true},
		{"one layer", "massive", Point{"layer": 0}, nil, Max, 5, false, true},
		{"only NaN", "loss", Point{}, nil, Mean, nan, false, true},
		{"unknown metric", "lr", Point{}, nil, Mean, nan, false, false},
	} {
		got, proxy, ok := Pick(values, tc.metric, tc.at, tc.first, tc.over)
		if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) || proxy != tc.proxy || ok != tc.present {
			t.Errorf("%s: Pick = %v, %v, %v; want %v, %v, %v", tc.name, got, proxy, ok, tc.want, tc.proxy, tc.present)
		}
	}
}

// TestFinals: every final column has a value, NaN where the run measured
// nothing it copies; the massive column is the largest layer; a value is
// flagged a proxy score only where its column has the flag.
func TestFinals(t *testing.T) {
	got := Finals([]StepValue{
		{5, MetricValue{Metric: MetricSink, At: Point{CoordK: 1, CoordEps: 0.3}, Value: 75, Proxy: true}},
		{5, MetricValue{Metric: MetricMassiveHidden, At: Point{CoordLayer: 0}, Value: 2}},
		{5, MetricValue{Metric: MetricMassiveHidden, At: Point{CoordLayer: 1}, Value: 7}},
		{5, MetricValue{Metric: MetricMeanAlpha, At: Point{CoordK: 1}, Value: 0.5, Proxy: true}},
	})
	for _, f := range FinalColumns() {
		v, ok := got[f.Name]
		switch {
		case !ok:
			t.Errorf("%s: no value", f.Name)
		case f.Name == "final_sink1":
			if v.Value != 75 || !v.Proxy {
				t.Errorf("final_sink1 = %+v", v)
			}
		case f.Name == "final_massive":
			if v.Value != 7 || v.Proxy {
				t.Errorf("final_massive = %+v", v)
			}
		case f.Name == "final_mean_alpha1": // a proxy score, but its column has no flag to say so
			if v.Value != 0.5 || v.Proxy {
				t.Errorf("final_mean_alpha1 = %+v", v)
			}
		case !math.IsNaN(v.Value):
			t.Errorf("%s = %v, want NaN", f.Name, v.Value)
		}
	}
}

func TestReductions(t *testing.T) {
	vs := []float64{3, 1, 2}
	if got := Min.Apply(vs) + 10*Max.Apply(vs) + 100*Mean.Apply(vs); got != 1+30+200 {
		t.Errorf("Apply: %v", got)
	}
	for _, name := range Reductions() {
		if r, ok := ParseReduction(name); !ok || r.String() != name {
			t.Errorf("ParseReduction(%q) = %v, %v", name, r, ok)
		}
	}
	if _, ok := ParseReduction("median"); ok {
		t.Error("ParseReduction accepts median")
	}
}

// TestExpectationEval: every comparison, at a tie and on either side of it.
func TestExpectationEval(t *testing.T) {
	q := &Quantity{Metric: MetricSink}
	for _, tc := range []struct {
		op    string
		value float64 // compared with 50
		holds bool
	}{
		{"<", 49, true}, {"<", 50, false}, {"<", 51, false},
		{"<=", 49, true}, {"<=", 50, true}, {"<=", 51, false},
		{">", 49, false}, {">", 50, false}, {">", 51, true},
		{">=", 49, false}, {">=", 50, true}, {">=", 51, true},
	} {
		e := Expectation{Op: tc.op, Left: []Term{{Quantity: q}}, Right: []Term{{Const: 60}, {Neg: true, Const: 10}}}
		left, right, holds := e.Eval(func(*Quantity) float64 { return tc.value })
		if left != tc.value || right != 50 || holds != tc.holds {
			t.Errorf("%v %s 50: %v %v %v, want holds %v", tc.value, tc.op, left, right, holds, tc.holds)
		}
	}
}

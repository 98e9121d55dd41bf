package measure

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

// Hand-made T=3 attention maps (rows = queries, causal).
var (
	// mapA: alpha_1 = (1 + 1/2 + 1/4)/3 = 7/12, alpha_2 = (1/2 + 1/4)/2 = 3/8, alpha_3 = 1/2.
	mapA = []float32{
		1, 0, 0,
		0.5, 0.5, 0,
		0.25, 0.25, 0.5,
	}
	// mapB: alpha_1 = (1 + 0 + 0)/3 = 1/3, alpha_2 = (1 + 0)/2 = 1/2, alpha_3 = 1.
	mapB = []float32{
		1, 0, 0,
		0, 1, 0,
		0, 0, 1,
	}
	// mapU (uniform causal): alpha_1 = (1 + 1/2 + 1/3)/3 = 11/18,
	// alpha_2 = (1/2 + 1/3)/2 = 5/12, alpha_3 = 1/3.
	mapU = []float32{
		1, 0, 0,
		0.5, 0.5, 0,
		1.0 / 3, 1.0 / 3, 1.0 / 3,
	}
)

func cat(maps ...[]float32) []float32 {
	var out []float32
	for _, m := range maps {
		out = append(out, m...)
	}
	return out
}

// oneHead is 1 layer, 1 head, 2 sequences: sequence 0 sees mapA, sequence 1 mapB.
func oneHead() Probe {
	return Probe{N: 2, T: 3, Layers: 1, Heads: 1, Attention: [][]float32{cat(mapA, mapB)}}
}

// grid is 2 layers × 2 heads × 2 sequences; layout [N][H][T][T] per layer:
//
//	layer 0: (n0,h0)=A (n0,h1)=U (n1,h0)=B (n1,h1)=U
//	layer 1: (n0,h0)=U (n0,h1)=B (n1,h0)=U (n1,h1)=A
func grid() Probe {
	return Probe{N: 2, T: 3, Layers: 2, Heads: 2, Attention: [][]float32{
		cat(mapA, mapU, mapB, mapU),
		cat(mapU, mapB, mapU, mapA),
	}}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestAlpha(t *testing.T) {
	for _, c := range []struct {
		name string
		m    []float32
		k    int
		want float64
	}{
		{"A k1", mapA, 1, 7.0 / 12}, {"A k2", mapA, 2, 3.0 / 8}, {"A k3", mapA, 3, 1.0 / 2},
		{"B k1", mapB, 1, 1.0 / 3}, {"B k2", mapB, 2, 1.0 / 2}, {"B k3", mapB, 3, 1},
		{"U k1", mapU, 1, 11.0 / 18}, {"U k2", mapU, 2, 5.0 / 12}, {"U k3", mapU, 3, 1.0 / 3},
	} {
		if got := Alpha(c.m, 3, c.k); !near(got, c.want) {
			t.Errorf("%s: alpha = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSink(t *testing.T) {
	type want struct {
		k       int
		eps     float64
		percent float64
	}
	for _, c := range []struct {
		name  string
		probe Probe
		opts  Options
		want  []want
		mean1 float64
	}{
		{
			// Mean over sequences of alpha_1 is (7/12 + 1/3)/2 = 11/24 > 0.4,
			// but only sequence 0 (7/12) exceeds 0.4: 50%, not 100%.
			name: "per-sequence indicator", probe: oneHead(), opts: Options{Eps: []float64{0.4}},
			want: []want{{1, 0.4, 50}}, mean1: 11.0 / 24,
		},
		{
			// alpha_1 of B is exactly 1/3 and alpha_2 of A exactly 3/8: equal
			// to eps does not count (strict >).
			name: "strict", probe: oneHead(), opts: Options{Eps: []float64{1.0 / 3, 3.0 / 8, 0.6}, Ks: []int{2}},
			want: []want{
				{1, 1.0 / 3, 50}, {1, 3.0 / 8, 50}, {1, 0.6, 0}, // A: 7/12 > 1/3, > 3/8, < 0.6; B: 1/3
				{2, 1.0 / 3, 100}, {2, 3.0 / 8, 50}, {2, 0.6, 0}, // A: 3/8; B: 1/2
			},
			mean1: 11.0 / 24,
		},
		{
			// alpha_3 of A is exactly 1/2, of B 1. Ks given without 1: 1 is added first.
			name: "k3", probe: oneHead(), opts: Options{Eps: []float64{0.5}, Ks: []int{3, 3}},
			want:  []want{{1, 0.5, 50}, {3, 0.5, 50}},
			mean1: 11.0 / 24,
		},
		{
			name: "default eps", probe: oneHead(), opts: Options{},
			want:  []want{{1, 0.3, 100}},
			mean1: 11.0 / 24,
		},
		{
			// alpha_1 per (layer, seq, head): A 7/12, U 11/18, B 1/3, U, U, B, U, A.
			// > 0.5: six of eight = 75%. alpha_2: A 3/8, U 5/12, B 1/2, U, U, B, U, A;
			// > 0.45: the two B = 25%.
			// mean alpha_1 = (2·7/12 + 2·1/3 + 4·11/18)/8 = 77/144.
			name: "grid", probe: grid(), opts: Options{Eps: []float64{0.5, 0.45}, Ks: []int{1, 2}},
			want:  []want{{1, 0.5, 75}, {1, 0.45, 75}, {2, 0.5, 0}, {2, 0.45, 25}},
			mean1: 77.0 / 144,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Analyze(c.probe, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Sink) != len(c.want) {
				t.Fatalf("got %d sink scores %+v, want %d", len(r.Sink), r.Sink, len(c.want))
			}
			for i, w := range c.want {
				s := r.Sink[i]
				if s.K != w.k || s.Eps != w.eps || !near(s.Percent, w.percent) || s.Proxy {
					t.Errorf("sink[%d] = %+v, want k=%d eps=%v %v%%", i, s, w.k, w.eps, w.percent)
				}
			}
			if !near(r.MeanAlpha1, c.mean1) {
				t.Errorf("mean alpha_1 = %v, want %v", r.MeanAlpha1, c.mean1)
			}
		})
	}
}

func TestHeadAlpha(t *testing.T) {
	r, err := Analyze(grid(), Options{Eps: []float64{0.5}, Ks: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	want := []HeadAlpha{
		{Layer: 0, Head: 0, K: 1, Alpha: (7.0/12 + 1.0/3) / 2, SinkPercent: 50}, // A, B
		{Layer: 0, Head: 0, K: 2, Alpha: (3.0/8 + 1.0/2) / 2, SinkPercent: 0},
		{Layer: 0, Head: 1, K: 1, Alpha: 11.0 / 18, SinkPercent: 100}, // U, U
		{Layer: 0, Head: 1, K: 2, Alpha: 5.0 / 12, SinkPercent: 0},
		{Layer: 1, Head: 0, K: 1, Alpha: 11.0 / 18, SinkPercent: 100}, // U, U
		{Layer: 1, Head: 0, K: 2, Alpha: 5.0 / 12, SinkPercent: 0},
		{Layer: 1, Head: 1, K: 1, Alpha: (1.0/3 + 7.0/12) / 2, SinkPercent: 50}, // B, A
		{Layer: 1, Head: 1, K: 2, Alpha: (1.0/2 + 3.0/8) / 2, SinkPercent: 0},
	}
	if len(r.HeadAlpha) != len(want) {
		t.Fatalf("got %d head rows, want %d", len(r.HeadAlpha), len(want))
	}
	for i, w := range want {
		g := r.HeadAlpha[i]
		if g.Layer != w.Layer || g.Head != w.Head || g.K != w.K || !near(g.Alpha, w.Alpha) || g.SinkPercent != w.SinkPercent || g.Proxy {
			t.Errorf("head[%d] = %+v, want %+v", i, g, w)
		}
	}
}

func TestUniformHarmonic(t *testing.T) {
	// Uniform causal attention: A_{t,1} = 1/t, so alpha_1 = H_T / T.
	for _, c := range []struct {
		T    int
		want float64 // H_T / T
	}{
		{1, 1},
		{2, 1.5 / 2},
		{3, (1 + 1.0/2 + 1.0/3) / 3},
		{64, 0.0741238}, // H_64 = 4.743920...
	} {
		T := c.T
		m := make([]float32, T*T)
		for i := range T {
			for j := 0; j <= i; j++ {
				m[i*T+j] = 1 / float32(i+1)
			}
		}
		r, err := Analyze(Probe{N: 1, T: T, Layers: 1, Heads: 1, Attention: [][]float32{m}}, Options{Eps: []float64{0.3}})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.MeanAlpha1-c.want) > 1e-6 {
			t.Errorf("T=%d: alpha_1 = %v, want H_T/T = %v", T, r.MeanAlpha1, c.want)
		}
	}
}

func TestNormalizeRows(t *testing.T) {
	// Raw T=3 maps; entries above the diagonal (9) must be ignored and zeroed.
	sigmoid := []float32{
		0.5, 9, 9, // [0.5/(0.5+1e-8)] ≈ [1]
		0.2, 0.6, 9, // [1/4, 3/4]
		0.1, 0.1, 0.2, // [1/4, 1/4, 1/2]
	}
	identity := []float32{
		-2, 9, 9, // [1]
		1, -3, 9, // [1/4, 3/4]
		-1, 2, 1, // [1/4, 1/2, 1/4]
	}
	zeros := []float32{
		0, 9, 9,
		0, 0, 9,
		0, 0, 0,
	}
	for _, c := range []struct {
		name string
		in   []float32
		kind ProxyKind
		want []float32
	}{
		{"sum", sigmoid, ProxySum, []float32{1, 0, 0, 0.25, 0.75, 0, 0.25, 0.25, 0.5}},
		{"abs sum", identity, ProxyAbsSum, []float32{1, 0, 0, 0.25, 0.75, 0, 0.25, 0.5, 0.25}},
		{"sum of zero rows", zeros, ProxySum, make([]float32, 9)},
		{"abs sum of zero rows", zeros, ProxyAbsSum, make([]float32, 9)},
		{"none copies", identity, ProxyNone, identity},
		// Two maps (n=2, h=1): the second normalised independently of the first.
		{"two maps", cat(sigmoid, identity), ProxyAbsSum, []float32{1, 0, 0, 0.25, 0.75, 0, 0.25, 0.25, 0.5, 1, 0, 0, 0.25, 0.75, 0, 0.25, 0.5, 0.25}},
	} {
		n := len(c.in) / 9
		got := NormalizeRows(c.in, n, 1, 3, c.kind)
		for i := range got {
			if math.Abs(float64(got[i]-c.want[i])) > 1e-7 {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
				break
			}
		}
		if &got[0] == &c.in[0] {
			t.Errorf("%s: NormalizeRows returned its input", c.name)
		}
	}
	// The sum kind adds 1e-8 to the denominator: a row [s] gives s/(s+1e-8).
	got := NormalizeRows([]float32{1e-8}, 1, 1, 1, ProxySum)
	if math.Abs(float64(got[0])-0.5) > 1e-6 {
		t.Errorf("row [1e-8] normalised to %v, want 1e-8/(2e-8) = 0.5", got[0])
	}
}

func TestProxyAnalyze(t *testing.T) {
	// Sigmoid-like raw scores (rows do not sum to 1); two sequences.
	// Sum-normalised, seq 0 becomes [1],[1/4,3/4],[1/4,1/4,1/2]: alpha_1 = (1+1/4+1/4)/3 = 1/2.
	// seq 1 raw [0.3],[0.3,0.3],[0.9,0.3,0.3] -> [1],[1/2,1/2],[3/5,1/5,1/5]:
	// alpha_1 = (1+1/2+3/5)/3 = 7/10. Raw (unnormalised) alpha_1 would be
	// (0.5+0.2+0.1)/3 = 4/15 and (0.3+0.3+0.9)/3 = 1/2.
	raw := []float32{
		0.5, 0, 0, 0.2, 0.6, 0, 0.1, 0.1, 0.2,
		0.3, 0, 0, 0.3, 0.3, 0, 0.9, 0.3, 0.3,
	}
	p := Probe{N: 2, T: 3, Layers: 1, Heads: 1, Attention: [][]float32{raw}}
	for _, c := range []struct {
		kind    ProxyKind
		mean    float64
		percent float64 // eps 0.6
	}{
		{ProxyNone, (4.0/15 + 1.0/2) / 2, 0},
		{ProxySum, (1.0/2 + 7.0/10) / 2, 50},
		{ProxyAbsSum, (1.0/2 + 7.0/10) / 2, 50}, // all scores positive: same as sum (without 1e-8)
	} {
		r, err := Analyze(p, Options{Eps: []float64{0.6}, Proxy: c.kind})
		if err != nil {
			t.Fatal(err)
		}
		proxy := c.kind != ProxyNone
		if !near(r.MeanAlpha1, c.mean) || !near(r.Sink[0].Percent, c.percent) || r.Sink[0].Proxy != proxy || r.HeadAlpha[0].Proxy != proxy {
			t.Errorf("%v: mean alpha_1 %v, sink %+v, head %+v; want mean %v, %v%%, proxy %v",
				c.kind, r.MeanAlpha1, r.Sink[0], r.HeadAlpha[0], c.mean, c.percent, proxy)
		}
	}
	if raw[1] != 0 || raw[6] != 0.1 {
		t.Error("Analyze modified its input")
	}
}

func TestMassive(t *testing.T) {
	p := oneHead()
	p.Heads = 2
	p.Attention = [][]float32{cat(mapA, mapB, mapB, mapU)}
	// Hidden norms [N=2][T=3]: 10/mean(4,6) = 2; 3/mean(2,2) = 1.5 -> 1.75.
	p.Hidden = [][]float32{{10, 4, 6, 3, 2, 2}}
	// Key norms [N=2][H=2][T=3]: 6/mean(2,4)=2, 1/mean(1,1)=1, 9/mean(3,3)=3,
	// 2/mean(4,4)=0.5 -> (2+1+3+0.5)/4 = 1.625.
	p.Keys = [][]float32{{6, 2, 4, 1, 1, 1, 9, 3, 3, 2, 4, 4}}
	r, err := Analyze(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Massive) != 1 {
		t.Fatalf("massive = %+v, want one layer", r.Massive)
	}
	m := r.Massive[0]
	if m.Layer != 0 || !near(m.Hidden, 1.75) || !near(m.Key, 1.625) || !math.IsNaN(m.Value) {
		t.Errorf("massive = %+v, want hidden 1.75, key 1.625, value NaN", m)
	}
	r, _ = Analyze(oneHead(), Options{})
	if r.Massive != nil {
		t.Errorf("massive without norms = %+v, want nil", r.Massive)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Probe, *Options)
		want string
	}{
		{"zero N", func(p *Probe, o *Options) { p.N = 0 }, "must be positive"},
		{"layer count", func(p *Probe, o *Options) { p.Layers = 2 }, "1 attention maps for 2 layers"},
		{"map size", func(p *Probe, o *Options) { p.T = 4 }, "want N*heads*T*(slots+T) = 32"},
		{"heads", func(p *Probe, o *Options) { p.Heads = 2 }, "attention[0] has 18 values"},
		{"hidden size", func(p *Probe, o *Options) { p.Hidden = [][]float32{{1, 2, 3}} }, "hidden norms[0] has 3 values"},
		{"hidden layers", func(p *Probe, o *Options) { p.Hidden = [][]float32{{}, {}} }, "hidden norms has 2 layers"},
		{"key size", func(p *Probe, o *Options) { p.Keys = [][]float32{make([]float32, 5)} }, "key norms[0]"},
		{"value size", func(p *Probe, o *Options) { p.Values = [][]float32{make([]float32, 5)} }, "value norms[0]"},
		{"k too large", func(p *Probe, o *Options) { o.Ks = []int{4} }, "k=4 outside 1..3"},
		{"k zero", func(p *Probe, o *Options) { o.Ks = []int{0} }, "k=0"},
		{"eps NaN", func(p *Probe, o *Options) { o.Eps = []float64{math.NaN()} }, "not a finite number"},
		{"proxy kind", func(p *Probe, o *Options) { o.Proxy = 7 }, "unknown proxy kind"},
	} {
		p, o := oneHead(), Options{}
		c.edit(&p, &o)
		_, err := Analyze(p, o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestOptionsFor(t *testing.T) {
	for _, c := range []struct {
		name  string
		mod   func(r *config.Run)
		ks    []int
		proxy ProxyKind
	}{
		{"defaults", func(r *config.Run) {}, []int{1}, ProxyNone},
		{"asked positions", func(r *config.Run) { r.Measure.Sink = []int{2, 3} }, []int{1, 2, 3}, ProxyNone},
		{"fixed token position", func(r *config.Run) {
			r.Data.FixedToken = config.FixedToken{Kind: "fixed", Position: 2, Token: 5}
		}, []int{1, 2}, ProxyNone},
		{"fixed token already asked", func(r *config.Run) {
			r.Measure.Sink = []int{1, 2}
			r.Data.FixedToken = config.FixedToken{Kind: "fixed", Position: 2}
		}, []int{1, 2}, ProxyNone},
		{"fixed token beyond the probe", func(r *config.Run) {
			r.Measure.ProbeLength = 8
			r.Data.FixedToken = config.FixedToken{Kind: "fixed", Position: 9}
		}, []int{1}, ProxyNone},
		{"after a random span", func(r *config.Run) {
			r.Data.RandomTokens = config.RandomTokens{Kind: "span", From: 1, To: 3}
		}, []int{1, 3}, ProxyNone},
		{"off kinds keep their arguments out", func(r *config.Run) {
			r.Data.FixedToken = config.FixedToken{Kind: "none", Position: 5}
			r.Data.RandomTokens = config.RandomTokens{Kind: "none", From: 1, To: 7}
		}, []int{1}, ProxyNone},
		{"sigmoid", func(r *config.Run) { r.Model.Attention = config.Attention{Op: "sigmoid", Z: "one"} }, []int{1}, ProxySum},
	} {
		r := config.Default()
		c.mod(&r)
		sink := slices.Clone(r.Measure.Sink)
		o := OptionsFor(r)
		if !slices.Equal(o.Ks, c.ks) || o.Proxy != c.proxy || !slices.Equal(o.Eps, r.Measure.Eps) {
			t.Errorf("%s: Options %+v, want Ks %v, proxy %v", c.name, o, c.ks, c.proxy)
		}
		if !slices.Equal(r.Measure.Sink, sink) {
			t.Errorf("%s: OptionsFor changed the run's sink list", c.name)
		}
	}
}

// TestHeadSinkAtFirstEps: a head's Sink% counts the sequences above the
// first eps of the list, whatever the list's order, while Sink_k is
// reported at every eps. Two sequences, alpha_1 0.7 and 0.4.
func TestHeadSinkAtFirstEps(t *testing.T) {
	att := []float32{
		1, 0, 0, 0.6, 0.4, 0, 0.5, 0.25, 0.25, // sequence 0: alpha_1 = (1+0.6+0.5)/3 = 0.7
		1, 0, 0, 0.1, 0.9, 0, 0.1, 0.45, 0.45, // sequence 1: alpha_1 = (1+0.1+0.1)/3 = 0.4
	}
	for _, tc := range []struct {
		eps      []float64
		headSink float64
	}{
		{[]float64{0.5, 0.35}, 50},
		{[]float64{0.35, 0.5}, 100},
		{[]float64{0.35, 0.5, 0.8}, 100},
	} {
		rep, err := Analyze(Probe{N: 2, T: 3, Layers: 1, Heads: 1, Attention: [][]float32{att}}, Options{Eps: tc.eps})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.HeadAlpha) != 1 || rep.HeadAlpha[0].SinkPercent != tc.headSink || math.Abs(rep.HeadAlpha[0].Alpha-0.55) > 1e-6 {
			t.Errorf("eps %v: head %+v, want Sink%% %v at the first eps, alpha 0.55", tc.eps, rep.HeadAlpha, tc.headSink)
		}
		for _, s := range rep.Sink {
			want := map[float64]float64{0.35: 100, 0.5: 50, 0.8: 0}[s.Eps]
			if s.Percent != want {
				t.Errorf("eps %v: Sink_1 at %v = %v, want %v", tc.eps, s.Eps, s.Percent, want)
			}
		}
	}
}

// TestValues: the report's values are the catalogue's metrics at their
// coordinates, the metrics of files written so far in the order they were
// recorded (the metrics table's rows keep their order).
func TestValues(t *testing.T) {
	rep := Report{
		Sink:       []SinkScore{{K: 1, Eps: 0.3, Percent: 50, Proxy: true}, {K: 0, Eps: 0.3, Percent: 25, Proxy: true}},
		MeanAlpha1: 0.4, Proxy: true,
		Massive: []LayerRatio{{Layer: 0, Hidden: 9, Key: 2, Value: math.NaN()}, {Layer: 1, Hidden: 3, Key: 1, Value: 1}},
	}
	known := []string{config.MetricSink, config.MetricMeanAlpha, config.MetricMassiveHidden, config.MetricMassiveKey, config.MetricMassiveValue}
	var got []string
	for _, v := range rep.Values() {
		m, ok := config.MetricNamed(v.Metric)
		if !ok || m.Table != config.MetricsTable || len(v.At) != len(m.Coords) || v.Proxy != m.Proxy {
			t.Errorf("%+v: not a value of the catalogue's metrics table at its coordinates", v)
		}
		if slices.Contains(known, v.Metric) { // the order of files written so far; later metrics may come between
			got = append(got, fmt.Sprintf("%s(%s)=%v", v.Metric, v.At, v.Value))
		}
	}
	want := []string{"sink(k=1, eps=0.3)=50", "sink(k=0, eps=0.3)=25", "mean_alpha(k=1)=0.4",
		"massive_hidden(layer=0)=9", "massive_key(layer=0)=2", "massive_value(layer=0)=NaN",
		"massive_hidden(layer=1)=3", "massive_key(layer=1)=1", "massive_value(layer=1)=1"}
	if !slices.Equal(got, want) {
		t.Errorf("Values:\n got %v\nwant %v", got, want)
	}
}

// A map with one slot column: the slot's score is the mean over all queries
// (every query sees the slot), and token k's column is shifted by one.
func TestSlotColumn(t *testing.T) {
	// T = 2, one slot: rows are [slot, tok1, tok2].
	//   query 1: 0.5 0.5 0
	//   query 2: 0.6 0.1 0.3
	// alpha_slot = (0.5+0.6)/2 = 0.55; alpha_1 = (0.5+0.1)/2 = 0.3; alpha_2 = 0.3/1.
	att := []float32{0.5, 0.5, 0, 0.6, 0.1, 0.3}
	rep, err := Analyze(Probe{N: 1, T: 2, Layers: 1, Heads: 1, Slots: 1, Attention: [][]float32{att}},
		Options{Eps: []float64{0.5}, Ks: []int{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]float64{0: 0.55, 1: 0.3, 2: 0.3}
	for _, h := range rep.HeadAlpha {
		if math.Abs(h.Alpha-want[h.K]) > 1e-6 {
			t.Errorf("alpha_%d = %v, want %v", h.K, h.Alpha, want[h.K])
		}
	}
	got := map[int]float64{}
	for _, s := range rep.Sink {
		got[s.K] = s.Percent
	}
	if got[0] != 100 || got[1] != 0 || got[2] != 0 {
		t.Errorf("Sink at eps 0.5: slot %v%%, token 1 %v%%, token 2 %v%%; want 100, 0, 0", got[0], got[1], got[2])
	}
}

// Under a visibility mask (e.g. a window of 1), alpha_k averages only over
// the queries that see token k.
func TestVisibleMask(t *testing.T) {
	// T = 3, window 1: each query sees only itself.
	att := []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}
	vis := []bool{true, false, false, false, true, false, false, false, true}
	rep, err := Analyze(Probe{N: 1, T: 3, Layers: 1, Heads: 1, Attention: [][]float32{att}, Visible: [][]bool{vis}},
		Options{Eps: []float64{0.3}, Ks: []int{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range rep.HeadAlpha {
		if h.Alpha != 1 {
			t.Errorf("alpha_%d = %v, want 1 (only query %d sees token %d)", h.K, h.Alpha, h.K, h.K)
		}
	}
}

func TestProxyForFollowsTheOp(t *testing.T) {
	cases := []struct {
		a    config.Attention
		want ProxyKind
	}{
		{config.Attention{Op: "softmax"}, ProxyNone},
		{config.Attention{Op: "sigmoid", Z: "one"}, ProxySum},
		{config.Attention{Op: "sigmoid", Z: "sum"}, ProxyNone},
		{config.Attention{Op: "linear", Kernel: "identity", Z: "one"}, ProxyAbsSum},
	}
	for _, c := range cases {
		if got := ProxyFor(c.a); got != c.want {
			t.Errorf("ProxyFor(%+v) = %v, want %v", c.a, got, c.want)
		}
	}
}

// TestDocumentsNarrowAlpha: with document indices, alpha_1 averages over the
// queries of token 1's document only (the others cannot see it), and the
// proxy normalises each row over its own document's keys.
func TestDocumentsNarrowAlpha(t *testing.T) {
	attn := []float32{ // one sequence, one head: rows are queries
		1, 0, 0, 0,
		0.5, 0.5, 0, 0,
		0, 0, 1, 0,
		0, 0, 0.4, 0.6,
	}
	p := Probe{N: 1, T: 4, Layers: 1, Heads: 1, Attention: [][]float32{attn}}
	for _, tc := range []struct {
		docs      []int32
		wantAlpha float64
		wantSink  float64
	}{
		{nil, (1 + 0.5) / 4, 0},
		{[]int32{0, 0, 1, 1}, (1 + 0.5) / 2, 100},
	} {
		p.Documents = tc.docs
		r, err := Analyze(p, Options{Eps: []float64{0.5}})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.MeanAlpha1-tc.wantAlpha) > 1e-9 || r.Sink[0].Percent != tc.wantSink {
			t.Errorf("documents %v: alpha_1 %g, Sink_1 %g; want %g, %g", tc.docs, r.MeanAlpha1, r.Sink[0].Percent, tc.wantAlpha, tc.wantSink)
		}
	}
	// The proxy (sigmoid Z=1): row 3's weights on another document's keys
	// would count toward its sum without the documents.
	raw := []float32{
		0.8, 0, 0, 0,
		0.8, 0.8, 0, 0,
		0.9, 0.9, 0.5, 0,
		0.9, 0.9, 0.5, 0.5,
	}
	p = Probe{N: 1, T: 4, Layers: 1, Heads: 1, Attention: [][]float32{raw}, Documents: []int32{0, 0, 1, 1}}
	r, err := Analyze(p, Options{Eps: []float64{0.3}, Proxy: ProxySum})
	if err != nil {
		t.Fatal(err)
	}
	if want := (1 + 0.5) / 2.0; math.Abs(r.MeanAlpha1-want) > 1e-6 {
		t.Errorf("proxy alpha_1 with documents = %g, want %g", r.MeanAlpha1, want)
	}
	p.Documents = []int32{0, 1}
	if _, err := Analyze(p, Options{}); err == nil {
		t.Error("2 document indices for 4 tokens: no error")
	}
}

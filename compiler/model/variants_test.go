package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

func TestALiBiSlopes(t *testing.T) {
	p := func(e float64) float64 { return math.Pow(2, e) }
	cases := map[int][]float64{
		1: {p(-8)},
		2: {p(-4), p(-8)},
		4: {p(-2), p(-4), p(-6), p(-8)},
		8: {p(-1), p(-2), p(-3), p(-4), p(-5), p(-6), p(-7), p(-8)},
		// Not a power of two: the 4-head series, then every other slope of the 8-head one (ALiBi paper's code).
		6: {p(-2), p(-4), p(-6), p(-8), p(-1), p(-3)},
	}
	for H, want := range cases {
		got := alibiSlopes(H)
		if len(got) != len(want) {
			t.Fatalf("H=%d: %d slopes", H, len(got))
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-15 {
				t.Errorf("H=%d slope %d: %v, want %v", H, i, got[i], want[i])
			}
		}
	}
}

func TestT5Buckets(t *testing.T) {
	// T5 defaults (unidirectional): 32 buckets, max distance 128.
	cases := []struct{ n, want int }{
		{0, 0}, {1, 1}, {15, 15}, // exact below buckets/2
		{16, 16}, {32, 21}, {64, 26}, {127, 31}, // 16 + floor(log(n/16)/log(8)·16)
		{128, 31}, {10000, 31}, // the last bucket from max_distance on
	}
	for _, c := range cases {
		if got := t5Bucket(c.n, 32, 128); got != c.want {
			t.Errorf("bucket(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestSinusoidTable(t *testing.T) {
	const seq, D = 5, 6
	tab := sinusoidTable(seq, D)
	for i := 0; i < D/2; i++ { // position 0: sin 0 = 0, cos 0 = 1
		if tab[i] != 0 || tab[D/2+i] != 1 {
			t.Fatalf("position 0: %v", tab[:D])
		}
	}
	// position 3, frequency 1: w_1 = 10000^(-2/6)
	w := math.Pow(10000, -2.0/6)
	if got, want := float64(tab[3*D+1]), math.Sin(3*w); math.Abs(got-want) > 1e-6 {
		t.Errorf("sin: %v, want %v", got, want)
	}
	if got, want := float64(tab[3*D+D/2+1]), math.Cos(3*w); math.Abs(got-want) > 1e-6 {
		t.Errorf("cos: %v, want %v", got, want)
	}
}

// TestNumParamsOfVariants counts the parameters each variant adds or removes.
func TestNumParamsOfVariants(t *testing.T) {
	const D, L, H, dh = 128, 4, 4, 32
	ref := int64(869_504) // refRun, as TestNumParams
	tests := []struct {
		name   string
		modify func(*config.Model)
		want   int64
	}{
		{"head_combine sum: W_o is [dh, D]", func(m *config.Model) { m.HeadCombine = "sum" }, ref - L*(H*dh-dh)*D},
		{"gate head", func(m *config.Model) { m.Attention.Gate = "head" }, ref + L*D*H},
		{"gate element", func(m *config.Model) { m.Attention.Gate = "element" }, ref + L*D*H*dh},
		{"bias k shared", func(m *config.Model) { m.Bias.Kind = "k" }, ref + L*dh},
		{"bias k per head, d_a 8", func(m *config.Model) { m.Bias = config.Bias{Kind: "k", PerHead: true, Dims: 8} }, ref + L*H*8},
		{"bias kv", func(m *config.Model) { m.Bias.Kind = "kv" }, ref + 2*L*dh},
		{"bias v per head", func(m *config.Model) { m.Bias = config.Bias{Kind: "v", PerHead: true} }, ref + L*H*dh},
		{"bias sink_token", func(m *config.Model) { m.Bias.Kind = "sink_token" }, ref + D},
		{"position learnable", func(m *config.Model) { m.Position.Kind, m.Position.Length = "learnable", 64 }, ref + 64*D},
		{"position relative", func(m *config.Model) { m.Position.Kind = "relative" }, ref + 32*H},
		{"position alibi", func(m *config.Model) { m.Position.Kind = "alibi" }, ref},
		{"sink_logit", func(m *config.Model) { m.Attention.Op = "sink_logit" }, ref + L*H},
		{"linear mlp kernel", func(m *config.Model) { m.Attention.Op, m.Attention.Kernel = "linear", "mlp" }, ref + L*2*dh*dh},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := refRun()
			tc.modify(&r.Model)
			m := newModel(t, r, 1)
			if got := m.NumParams(); got != tc.want {
				t.Errorf("NumParams = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDecayMatrices trains two identical models one step, with decay all and
// decay matrices: weight matrices end equal; every other parameter ends
// larger by exactly the decay factor's share, p0·lr·wd, under matrices.
func TestDecayMatrices(t *testing.T) {
	r := tinyRun()
	r.Model.Bias.Kind = "kv"
	r.Model.Attention.Gate = "head"
	r.Model.Position.Kind, r.Model.Position.Length = "learnable", 16
	r.Train.Optimizer.WeightDecay = 0.5
	r.Train.Schedule.Warmup = 0
	lr, wd := r.Train.Optimizer.LR, r.Train.Optimizer.WeightDecay
	rng := rand.New(rand.NewPCG(3, 3))
	tok := randomTokens(rng, 4*9, 16)
	step := func(decay config.DecaySet) *Model {
		rr := r
		rr.Train.Optimizer.Decay = decay
		m := newModel(t, rr, 1)
		if _, err := m.TrainStep(tok, 4, 0); err != nil {
			t.Fatal(err)
		}
		return m
	}
	init := newModel(t, r, 1)
	all, mats := step("all"), step("matrices")
	wantMatrix := map[string]bool{"wqkv": true, "wo": true, "gate": true, "w1": true, "w2": true, "head": true}
	for i, p := range all.params {
		name := p.Path()[strings.LastIndex(p.Path(), "/")+1:]
		isMatrix := wantMatrix[name]
		if mats.decays[i] != isMatrix {
			t.Errorf("%s: decays %v under matrices, want %v", p.Path(), mats.decays[i], isMatrix)
		}
		p0, a, b := flat(init.params[i]), flat(p), flat(mats.params[i])
		for j := range a {
			want := 0.0
			if !isMatrix {
				want = float64(p0[j]) * lr * wd
			}
			if d := float64(b[j]) - float64(a[j]); math.Abs(d-want) > 1e-6+1e-3*math.Abs(want) {
				t.Fatalf("%s[%d]: matrices - all = %g, want %g", p.Path(), j, d, want)
			}
		}
	}
}

// TestPostNormOrdering: post-norm applies the norm after the residual add, so
// every block's output has RMS 1 (gain 1 at init): ||h|| = sqrt(D). Pre-norm
// leaves the residual stream unnormalised.
func TestPostNormOrdering(t *testing.T) {
	for _, placement := range []string{"post", "pre"} {
		r := tinyRun()
		r.Model.Norm.Placement = placement
		r.Model.Norm.Eps = 1e-12
		m := newModel(t, r, 1)
		rng := rand.New(rand.NewPCG(4, 4))
		p, err := m.Probe(randomTokens(rng, 2*6, 16), 2, 6)
		if err != nil {
			t.Fatal(err)
		}
		want := math.Sqrt(float64(r.Model.DModel))
		maxDev := 0.0
		for _, h := range p.Hidden {
			for _, x := range h {
				maxDev = math.Max(maxDev, math.Abs(float64(x)-want))
			}
		}
		if placement == "post" && maxDev > 1e-3 {
			t.Errorf("post-norm: block outputs should have norm sqrt(D) = %v, max deviation %v", want, maxDev)
		}
		if placement == "pre" && maxDev < 1 {
			t.Errorf("pre-norm: block outputs should not be normalised (max deviation from sqrt(D) only %v)", maxDev)
		}
	}
}

// TestSaveLoadVariantParams round-trips a checkpoint holding the optional
// parameters (sink logit, kernel MLP, gate, relative table, biases...).
func TestSaveLoadVariantParams(t *testing.T) {
	for _, modify := range []func(*config.Model){
		func(m *config.Model) {
			m.Attention.Op, m.Attention.Gate = "sink_logit", "element"
			m.Position.Kind, m.Position.Buckets, m.Position.MaxDistance = "relative", 4, 6
		},
		func(m *config.Model) {
			m.Bias = config.Bias{Kind: "kv", PerHead: true, Dims: 4}
			m.Position.Kind, m.Position.Length = "learnable", 16
			m.HeadCombine = "sum"
		},
		func(m *config.Model) {
			m.Bias.Kind = "sink_token"
			m.Attention.Op, m.Attention.Kernel = "linear", "mlp"
		},
	} {
		r := tinyRun()
		modify(&r.Model)
		rng := rand.New(rand.NewPCG(6, 6))
		tok := randomTokens(rng, 4*9, 16)
		a := newModel(t, r, 1)
		if _, err := a.TrainStep(tok, 4, 0); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := a.Save(dir); err != nil {
			t.Fatal(err)
		}
		b := newModel(t, r, 2)
		if err := b.Load(dir); err != nil {
			t.Fatal(err)
		}
		la, err := a.TrainStep(tok, 4, 1)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := b.TrainStep(tok, 4, 1)
		if err != nil {
			t.Fatal(err)
		}
		if la != lb {
			t.Errorf("%+v: loss after resume %v, uninterrupted %v", r.Model, lb, la)
		}
	}
}

// TestVariantErrors: configs the compiler rejects are also rejected by New.
func TestVariantErrors(t *testing.T) {
	b := testBackend(t)
	for _, tc := range []struct {
		name   string
		modify func(*config.Model)
		want   string
	}{
		{"absolute needs even d_model", func(m *config.Model) { m.Position.Kind, m.DModel, m.HeadDim = "absolute", 33, 16 }, "even d_model"},
		{"learnable needs a length", func(m *config.Model) { m.Position.Kind, m.Position.Length = "learnable", 0 }, "length"},
		{"relative max distance", func(m *config.Model) { m.Position.Kind, m.Position.Buckets, m.Position.MaxDistance = "relative", 8, 4 }, "max_distance"},
		{"window needs a size", func(m *config.Model) { m.Mask = config.Mask{Kind: "window"} }, "size"},
		{"shift below size", func(m *config.Model) { m.Mask = config.Mask{Kind: "shifted_window", Size: 4, Shift: 4} }, "shift"},
		{"bias dims at most head_dim", func(m *config.Model) { m.Bias = config.Bias{Kind: "k", Dims: 17} }, "dims"},
		{"two slots", func(m *config.Model) { m.Attention.Op, m.Bias.Kind = "sink_logit", "kv" }, "slot"},
		{"linear with k bias", func(m *config.Model) { m.Attention.Op, m.Attention.Kernel, m.Bias.Kind = "linear", "elu", "k" }, "linear"},
		{"linear with alibi", func(m *config.Model) { m.Attention.Op, m.Attention.Kernel, m.Position.Kind = "linear", "elu", "alibi" }, "alibi"},
		{"linear kernel", func(m *config.Model) { m.Attention.Op, m.Attention.Kernel = "linear", "cosine" }, "kernel"},
		{"elu z", func(m *config.Model) { m.Attention.Op, m.Attention.Z = "elu", "max" }, "model.attention.z"},
		{"unknown gate", func(m *config.Model) { m.Attention.Gate = "row" }, "gate"},
	} {
		r := tinyRun()
		tc.modify(&r.Model)
		_, err := New(b, r.Model, r.Train, 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	// A probe longer than the learnable table fails cleanly.
	r := tinyRun()
	r.Model.Position.Kind, r.Model.Position.Length = "learnable", 6
	m := newModel(t, r, 1)
	if _, err := m.Probe(make([]int32, 8), 1, 8); err == nil || !strings.Contains(err.Error(), "learnable positions") {
		t.Errorf("probe beyond the learnable table: err = %v", err)
	}
	// A prefix LM needs a position after the prefix to score.
	r = tinyRun()
	r.Model.Mask = config.Mask{Kind: "prefix", Size: 9}
	m = newModel(t, r, 1)
	if _, err := m.EvalLoss(make([]int32, 9), 1); err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("prefix LM with nothing to score: err = %v", err)
	}
}

// TestVariantDefaultsKeepRunIDs: at their defaults the variant settings are
// left out of the run's JSON, so runs that do not use them keep their ids.
func TestVariantDefaultsKeepRunIDs(t *testing.T) {
	for _, mod := range []func(*config.Run){
		func(*config.Run) {},
		func(r *config.Run) { r.Model.Position.Kind = "nope" },
		func(r *config.Run) { r.Model.Attention.Op, r.Model.Attention.Z = "sigmoid", "sum" },
	} {
		r := config.Default()
		mod(&r)
		js := r.JSON()
		for _, key := range []string{"head_combine", "bias", "mask", "decay", "alpha", "kernel", "gate", "buckets", "max_distance", "length"} {
			if strings.Contains(js, `"`+key+`"`) {
				t.Errorf("default run JSON mentions %q: %s", key, js)
			}
		}
	}
	// A variant that is on is part of the id.
	a, b := config.Default(), config.Default()
	b.Model.Mask = config.Mask{Kind: "window", Size: 8}
	if a.ID() == b.ID() {
		t.Error("a window mask does not change the run id")
	}
}

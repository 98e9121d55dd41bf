package model

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	gmodel "github.com/gomlx/gomlx/ml/model"

	"github.com/sinkrun/sinkrun/config"
)

func TestNumParams(t *testing.T) {
	const V, D, L, F = 256, 128, 4, 352
	ref := int64(869_504) // torch_ref.py --d 128 --layers 4 --heads 4 --ffn 352
	tests := []struct {
		name   string
		modify func(*config.Run)
		want   int64
	}{
		{"reference", func(*config.Run) {}, ref},
		{"tied", func(r *config.Run) { r.Model.Tied = true }, ref - V*D},
		{"post-norm has no final norm", func(r *config.Run) { r.Model.Norm.Placement = "post" }, ref - D},
		{"layernorm adds biases", func(r *config.Run) { r.Model.Norm.Kind = "layernorm" }, ref + (2*L+1)*D},
		{"relu ffn has one input projection", func(r *config.Run) { r.Model.FFN.Kind = "relu" }, ref - L*D*F},
		{"head_dim 16", func(r *config.Run) { r.Model.HeadDim = 16 }, ref - L*4*D*(D-4*16)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := refRun()
			tc.modify(&r)
			m := newModel(t, r, 1)
			if got := m.NumParams(); got != tc.want {
				t.Errorf("NumParams = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestTrainLearnsAndIsDeterministic(t *testing.T) {
	r := tinyRun()
	const B, T, steps = 8, 16, 50
	run := func(seed int64) []float64 {
		m := newModel(t, r, seed)
		rng := rand.New(rand.NewPCG(7, 7)) // same data for every model
		var losses []float64
		for s := 0; s < steps; s++ {
			loss, err := m.TrainStep(countingBatch(rng, B, T, r.Model.Vocab), B, s)
			if err != nil {
				t.Fatal(err)
			}
			if !finite(loss) {
				t.Fatalf("step %d: loss %v", s, loss)
			}
			losses = append(losses, loss)
		}
		return losses
	}
	a, b, c := run(1), run(1), run(2)
	t.Logf("seed 1: first %.4f last %.4f; seed 2: first %.4f last %.4f", a[0], a[steps-1], c[0], c[steps-1])
	if math.Abs(a[0]-math.Log(16)) > 0.2 {
		t.Errorf("initial loss %.4f, want about ln 16 = %.4f", a[0], math.Log(16))
	}
	if a[steps-1] > 0.5*a[0] {
		t.Errorf("loss did not decrease enough: %.4f -> %.4f", a[0], a[steps-1])
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, step %d: %v != %v (not bit-identical)", i, a[i], b[i])
		}
	}
	if a[0] == c[0] {
		t.Errorf("seeds 1 and 2 give the same initial loss %v", a[0])
	}
}

func TestEvalLossMatchesTrainLossBeforeUpdate(t *testing.T) {
	r := tinyRun()
	m := newModel(t, r, 3)
	rng := rand.New(rand.NewPCG(1, 1))
	tok := countingBatch(rng, 4, 12, 16)
	for s := 0; s < 3; s++ {
		ev, err := m.EvalLoss(tok, 4)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := m.TrainStep(tok, 4, s)
		if err != nil {
			t.Fatal(err)
		}
		if ev != tr {
			t.Fatalf("step %d: EvalLoss %v != TrainStep loss %v (eval graph sees stale weights?)", s, ev, tr)
		}
	}
}

// TestProbeShapesAndRows checks the probe's shapes for every variant, and
// the row sums each op promises: 1 (slot included) for ops that are not
// proxies, alpha for scaled_softmax, and not 1 for the other proxies; zeros
// above the diagonal under the causal mask, checking the catalogue's proxy
// rule (config.Attention.ProxyNorm) against the weights the op computes.
func TestProbeShapesAndRows(t *testing.T) {
	for _, vc := range variantCases {
		t.Run(vc.name, func(t *testing.T) {
			r := tinyRun()
			vc.modify(&r.Model)
			m := newModel(t, r, 1)
			const N, T = 3, 10
			rng := rand.New(rand.NewPCG(2, 2))
			// a couple of training steps so the weights are not at init
			for s := 0; s < 2; s++ {
				if _, err := m.TrainStep(randomTokens(rng, 4*(T+1), 16), 4, s); err != nil {
					t.Fatal(err)
				}
			}
			p, err := m.Probe(randomTokens(rng, N*T, 16), N, T)
			if err != nil {
				t.Fatal(err)
			}
			L, H := r.Model.Layers, r.Model.Heads
			if p.N != N || p.T != T || p.Layers != L || p.Heads != H || p.Slots != m.Slots() {
				t.Fatalf("probe dims N%d T%d L%d H%d slots %d", p.N, p.T, p.Layers, p.Heads, p.Slots)
			}
			S := p.Slots + T
			for name, per := range map[string][][]float32{"Attention": p.Attention, "Hidden": p.Hidden, "Keys": p.Keys, "Values": p.Values} {
				want := map[string]int{"Attention": N * H * T * S, "Hidden": N * T, "Keys": N * H * T, "Values": N * H * T}[name]
				if len(per) != L {
					t.Fatalf("%s: %d layers, want %d", name, len(per), L)
				}
				for l := range per {
					if len(per[l]) != want {
						t.Fatalf("%s layer %d: %d values, want %d", name, l, len(per[l]), want)
					}
					for _, x := range per[l] {
						if !finite(float64(x)) || (name != "Attention" && x <= 0) {
							t.Fatalf("%s layer %d: bad value %v", name, l, x)
						}
					}
				}
			}
			a := r.Model.Attention
			proxy := a.ProxyNorm()
			if len(p.Visible) != L {
				t.Fatalf("Visible: %d layers", len(p.Visible))
			}
			softmaxLike := map[string]bool{"softmax": true, "scaled_softmax": true, "sink_logit": true, "softmax1": true}[a.Op]
			for l := 0; l < L; l++ {
				if len(p.Visible[l]) != T*S {
					t.Fatalf("Visible layer %d: %d values, want T*(Slots+T) = %d", l, len(p.Visible[l]), T*S)
				}
				for row := 0; row < N*H*T; row++ {
					q := row % T
					for c := 0; c < S; c++ {
						w, vis := p.Attention[l][row*S+c], p.Visible[l][q*S+c]
						if !vis && w != 0 {
							t.Fatalf("layer %d row %d column %d: weight %v where Visible is false", l, row, c, w)
						}
						if vis && softmaxLike && w <= 0 {
							t.Fatalf("layer %d row %d column %d: weight %v where Visible is true", l, row, c, w)
						}
					}
				}
			}
			causal := r.Model.Mask.Kind == "causal"
			wantSum := 1.0
			if a.Op == "scaled_softmax" {
				wantSum = a.Alpha
			}
			maxDev := 0.0
			for l := 0; l < L; l++ {
				A := p.Attention[l]
				for row := 0; row < N*H*T; row++ {
					q := row % T
					sum := 0.0
					for c := 0; c < S; c++ {
						w := float64(A[row*S+c])
						if causal && c-p.Slots > q && w != 0 {
							t.Fatalf("layer %d row %d: weight %v above the diagonal", l, row, w)
						}
						if w < 0 && proxy != "abs_sum" {
							t.Fatalf("negative weight %v", w)
						}
						sum += w
					}
					maxDev = math.Max(maxDev, math.Abs(sum-wantSum))
				}
			}
			switch {
			case proxy == "" || a.Op == "scaled_softmax":
				if maxDev > 1e-4 {
					t.Errorf("rows should sum to %v, max deviation %g", wantSum, maxDev)
				}
			default:
				if maxDev < 1e-3 {
					t.Errorf("proxy op %s: rows should not all sum to 1, max deviation only %g", a.Op, maxDev)
				}
			}
		})
	}
}

// TestProbeMatchesHandComputation recomputes layer 0's attention, key and
// value norms of head 0 from the weights (RMSNorm, RoPE rotate-half, softmax).
func TestProbeMatchesHandComputation(t *testing.T) {
	r := tinyRun()
	r.Model.Layers = 1
	r.Model.InitStd = 0.5 // sharp enough attention for a meaningful comparison
	m := newModel(t, r, 5)
	const N, T = 2, 7
	D, H, dh := r.Model.DModel, r.Model.Heads, m.headDim
	rng := rand.New(rand.NewPCG(3, 3))
	tok := randomTokens(rng, N*T, r.Model.Vocab)
	p, err := m.Probe(tok, N, T)
	if err != nil {
		t.Fatal(err)
	}
	emb := flat(m.embed)
	gain := flat(m.blocks[0].norm1.gain)
	wqkv := flat(m.blocks[0].wqkv)
	const h = 1 // head under test
	for n := 0; n < N; n++ {
		q := make([][]float64, T)
		k := make([][]float64, T)
		v := make([][]float64, T)
		for t0 := 0; t0 < T; t0++ {
			x := emb[int(tok[n*T+t0])*D : int(tok[n*T+t0]+1)*D]
			ms := 0.0
			for _, e := range x {
				ms += float64(e) * float64(e)
			}
			inv := 1 / math.Sqrt(ms/float64(D)+r.Model.Norm.Eps)
			proj := func(which int) []float64 {
				out := make([]float64, dh)
				for j := 0; j < dh; j++ {
					col := which*H*dh + h*dh + j
					for i := 0; i < D; i++ {
						out[j] += float64(x[i]) * inv * float64(gain[i]) * float64(wqkv[i*3*H*dh+col])
					}
				}
				return out
			}
			q[t0], k[t0], v[t0] = rope(proj(0), t0, r.Model.Position.Base), rope(proj(1), t0, r.Model.Position.Base), proj(2)
		}
		for t0 := 0; t0 < T; t0++ {
			scores := make([]float64, t0+1)
			mx := math.Inf(-1)
			for s := 0; s <= t0; s++ {
				for j := 0; j < dh; j++ {
					scores[s] += q[t0][j] * k[s][j]
				}
				scores[s] /= math.Sqrt(float64(dh))
				mx = math.Max(mx, scores[s])
			}
			z := 0.0
			for s := range scores {
				scores[s] = math.Exp(scores[s] - mx)
				z += scores[s]
			}
			for s := 0; s < T; s++ {
				want := 0.0
				if s <= t0 {
					want = scores[s] / z
				}
				got := float64(p.Attention[0][((n*H+h)*T+t0)*T+s])
				if math.Abs(got-want) > 2e-5 {
					t.Fatalf("seq %d query %d key %d: probe %v, hand %v", n, t0, s, got, want)
				}
			}
			if got, want := float64(p.Keys[0][(n*H+h)*T+t0]), norm2(k[t0]); math.Abs(got-want) > 1e-4*want {
				t.Errorf("key norm seq %d pos %d: %v, hand %v", n, t0, got, want)
			}
			if got, want := float64(p.Values[0][(n*H+h)*T+t0]), norm2(v[t0]); math.Abs(got-want) > 1e-4*want {
				t.Errorf("value norm seq %d pos %d: %v, hand %v", n, t0, got, want)
			}
		}
	}
}

func rope(x []float64, pos int, base float64) []float64 {
	dh := len(x)
	half := dh / 2
	out := make([]float64, dh)
	for i := 0; i < half; i++ {
		ang := float64(pos) / math.Pow(base, float64(2*i)/float64(dh))
		c, s := math.Cos(ang), math.Sin(ang)
		out[i] = x[i]*c - x[i+half]*s
		out[i+half] = x[i+half]*c + x[i]*s
	}
	return out
}

func norm2(x []float64) float64 {
	s := 0.0
	for _, e := range x {
		s += e * e
	}
	return math.Sqrt(s)
}

func flat(v *gmodel.Variable) []float32 { return tensors.MustCopyFlatData[float32](v.MustValue()) }

// TestGlobalNormClipping checks the clipped gradient through AdamW's first
// moment after one step: m1 = (1-b1)·g_clipped, so ||m1||/(1-b1) is the
// clipped global norm: min(||g||, clip) (up to torch's 1e-6).
func TestGlobalNormClipping(t *testing.T) {
	for _, clip := range []float64{0, 0.05, 1e3} {
		r := tinyRun()
		r.Train.Optimizer.Clip = clip
		m := newModel(t, r, 1)
		rng := rand.New(rand.NewPCG(4, 4))
		if _, err := m.TrainStep(randomTokens(rng, 4*13, 16), 4, 0); err != nil {
			t.Fatal(err)
		}
		gn := m.GradNorm()
		sum := 0.0
		for _, v := range m.m1 {
			for _, x := range flat(v) {
				sum += float64(x) * float64(x)
			}
		}
		got := math.Sqrt(sum) / (1 - r.Train.Optimizer.Betas[0])
		want := gn
		if clip > 0 && gn > clip {
			want = clip * gn / (gn + 1e-6)
		}
		t.Logf("clip %g: grad norm %.5f, clipped %.5f", clip, gn, got)
		if math.Abs(got-want) > 1e-4*want {
			t.Errorf("clip %g: clipped norm %v, want %v (grad norm %v)", clip, got, want, gn)
		}
		if clip == 0.05 && gn <= clip {
			t.Errorf("test needs grad norm > %v, got %v", clip, gn)
		}
	}
}

func TestSchedule(t *testing.T) {
	base := config.Train{Steps: 101, Optimizer: config.Optimizer{LR: 1e-3}}
	with := func(kind string, warmup int, minLR float64) config.Train {
		tr := base
		tr.Schedule = config.Schedule{Kind: kind, Warmup: warmup, MinLR: minLR}
		return tr
	}
	tests := []struct {
		name string
		tr   config.Train
		step int
		want float64
	}{
		{"warmup first step", with("constant", 10, 0), 0, 1e-4},
		{"warmup middle", with("constant", 10, 0), 4, 5e-4},
		{"warmup reaches peak", with("constant", 10, 0), 9, 1e-3},
		{"constant after warmup", with("constant", 10, 0), 100, 1e-3},
		{"no warmup", with("constant", 0, 0), 0, 1e-3},
		{"cosine start", with("cosine", 0, 0.1), 0, 1e-3},
		{"cosine middle", with("cosine", 0, 0.1), 50, 1e-4 + 0.9e-3*0.5},
		{"cosine end", with("cosine", 0, 0.1), 100, 1e-4},
		{"cosine after warmup", with("cosine", 20, 0), 20, 1e-3},
		{"cosine end with warmup", with("cosine", 20, 0), 100, 0},
		{"cosine past the end", with("cosine", 0, 0.1), 500, 1e-4},
		{"linear middle", with("linear", 0, 0), 50, 5e-4},
		{"linear end", with("linear", 0, 0.2), 100, 2e-4},
		{"linear right after warmup", with("linear", 1, 0), 1, 1e-3},
		{"linear end with warmup", with("linear", 1, 0), 100, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Schedule(tc.tr, tc.step); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("Schedule(step %d) = %v, want %v", tc.step, got, tc.want)
			}
		})
	}
}

func TestVariantsTrainOneStep(t *testing.T) {
	type variant struct {
		name   string
		modify func(*config.Model)
	}
	var vs []variant
	for _, n := range []string{"rmsnorm", "layernorm"} {
		for _, pl := range []string{"pre", "post"} {
			vs = append(vs, variant{"norm_" + n + "_" + pl, func(m *config.Model) { m.Norm.Kind, m.Norm.Placement = n, pl }})
		}
	}
	for _, f := range []string{"swiglu", "geglu", "reglu", "relu", "gelu", "swish"} {
		vs = append(vs, variant{"ffn_" + f, func(m *config.Model) { m.FFN.Kind = f }})
	}
	vs = append(vs,
		variant{"tied", func(m *config.Model) { m.Tied = true }},
		variant{"head_dim_8", func(m *config.Model) { m.HeadDim = 8 }},
		variant{"default_hidden", func(m *config.Model) { m.FFN.Hidden = 0 }},
		variant{"post_layernorm_kv_bias_gate", func(m *config.Model) {
			m.Norm.Kind, m.Norm.Placement, m.Bias.Kind, m.Attention.Gate = "layernorm", "post", "kv", "element"
		}},
	)
	// Every architecture variant of the reference check (reference_test.go).
	for _, vc := range variantCases {
		vs = append(vs, variant{vc.name, vc.modify})
	}
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			r := tinyRun()
			v.modify(&r.Model)
			m := newModel(t, r, 1)
			rng := rand.New(rand.NewPCG(5, 5))
			var losses []float64
			for s := 0; s < 2; s++ {
				loss, err := m.TrainStep(randomTokens(rng, 4*9, 16), 4, s+10)
				if err != nil {
					t.Fatal(err)
				}
				if !finite(loss) || !finite(m.GradNorm()) {
					t.Fatalf("step %d: loss %v grad norm %v", s, loss, m.GradNorm())
				}
				losses = append(losses, loss)
				if s == 0 {
					// Every parameter takes part: its first AdamW moment, (1-b1)·g, is not all zero.
					for i, p := range m.params {
						nonzero := false
						for _, x := range flat(m.m1[i]) {
							nonzero = nonzero || x != 0
						}
						if !nonzero {
							t.Errorf("parameter %s got no gradient", p.Path())
						}
					}
				}
			}
			p, err := m.Probe(randomTokens(rng, 2*8, 16), 2, 8)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range p.Attention[len(p.Attention)-1] {
				if !finite(float64(x)) {
					t.Fatalf("probe attention %v", x)
				}
			}
			ev, err := m.EvalLoss(randomTokens(rng, 4*9, 16), 4)
			if err != nil || !finite(ev) {
				t.Fatalf("EvalLoss %v, %v", ev, err)
			}
		})
	}
}

func TestSaveLoadResumesExactly(t *testing.T) {
	r := tinyRun()
	r.Train.Schedule = config.Schedule{Kind: "cosine", Warmup: 2, MinLR: 0.1}
	r.Train.Steps = 8
	data := func() [][]int32 {
		rng := rand.New(rand.NewPCG(6, 6))
		var d [][]int32
		for i := 0; i < r.Train.Steps; i++ {
			d = append(d, randomTokens(rng, 4*9, 16))
		}
		return d
	}()
	const cut = 4
	dir := t.TempDir()

	a := newModel(t, r, 11)
	var straight []float64
	for s := 0; s < r.Train.Steps; s++ {
		if s == cut {
			if err := a.Save(dir); err != nil {
				t.Fatal(err)
			}
		}
		loss, err := a.TrainStep(data[s], 4, s)
		if err != nil {
			t.Fatal(err)
		}
		straight = append(straight, loss)
	}

	b := newModel(t, r, 99) // different init: everything must come from the checkpoint
	if err := b.Load(dir); err != nil {
		t.Fatal(err)
	}
	for s := cut; s < r.Train.Steps; s++ {
		loss, err := b.TrainStep(data[s], 4, s)
		if err != nil {
			t.Fatal(err)
		}
		if loss != straight[s] {
			t.Fatalf("step %d after resume: loss %v, uninterrupted %v", s, loss, straight[s])
		}
	}

	// A checkpoint of another shape is rejected without touching the model.
	other := tinyRun()
	other.Model.DModel = 16
	c := newModel(t, other, 1)
	if err := c.Load(dir); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("loading a mismatched checkpoint: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.json.tmp")); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind")
	}
}

func TestErrors(t *testing.T) {
	r := tinyRun()
	b := testBackend(t)
	bad := r
	bad.Model.Attention.Op = "nope"
	if _, err := New(b, bad.Model, bad.Train, 1); err == nil {
		t.Error("unknown attention op accepted")
	}
	bad = r
	bad.Model.Vocab = 0
	if _, err := New(b, bad.Model, bad.Train, 1); err == nil {
		t.Error("vocab 0 accepted")
	}
	m := newModel(t, r, 1)
	if _, err := m.TrainStep(make([]int32, 10), 3, 0); err == nil {
		t.Error("ragged batch accepted")
	}
	if _, err := m.TrainStep([]int32{1, 2, 99, 4}, 1, 0); err == nil {
		t.Error("out-of-vocabulary token accepted")
	}
	if _, err := m.Probe(make([]int32, 10), 2, 6); err == nil {
		t.Error("probe with wrong token count accepted")
	}
}

func TestFLOPsAndLearningRate(t *testing.T) {
	r := refRun()
	m := newModel(t, r, 1)
	f := m.FLOPsPerStep(32, 64)
	if lo := 6 * float64(m.NumParams()) * 32 * 64; f <= lo || f > 1.2*lo {
		t.Errorf("FLOPsPerStep = %g, want a bit above 6·N·tokens = %g", f, lo)
	}
	if got := m.LearningRate(r.Train.Schedule.Warmup - 1); got != r.Train.Optimizer.LR {
		t.Errorf("LearningRate at end of warm-up = %v", got)
	}
}

// TestReferenceDeterministic repeats the determinism check at the reference
// size, where the backend's parallel kernels split the work.
func TestReferenceDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("reference-size model")
	}
	r := refRun()
	run := func() []float64 {
		m := newModel(t, r, 1)
		rng := rand.New(rand.NewPCG(8, 8))
		var losses []float64
		for s := 0; s < 3; s++ {
			loss, err := m.TrainStep(randomTokens(rng, 32*65, 256), 32, s)
			if err != nil {
				t.Fatal(err)
			}
			losses = append(losses, loss)
		}
		p, err := m.Probe(randomTokens(rng, 4*64, 256), 4, 64)
		if err != nil {
			t.Fatal(err)
		}
		return append(losses, float64(p.Attention[3][1234]), float64(p.Hidden[2][77]))
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("value %d: %v != %v", i, a[i], b[i])
		}
	}
}

// Package model builds the GoMLX graphs of one run: a LLaMA-style decoder
// (transformer.go), its attention-op catalogue (attention_ops.go), AdamW with
// global-norm clipping and the learning-rate schedule (optim.go), and
// checkpoints (checkpoint.go).
//
// A Model owns three executors over one variable store: the training step,
// the evaluation loss and the probe (attention maps and norms). The probe is
// a separate graph so the training step never exports attention maps.
package model

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gmodel "github.com/gomlx/gomlx/ml/model"

	"github.com/sinkrun/sinkrun/config"
)

// Model is a compiled run: variables, optimiser state and executors.
type Model struct {
	backend compute.Backend
	cfg     config.Model
	train   config.Train
	seed    int64
	headDim int
	hidden  int
	fast    fastSwitches       // the fast gradient rules this model's graphs use
	op      attentionGraph     // the attention op's graph functions
	opSpec  config.AttentionOp // its catalogue entry

	store     *gmodel.Store
	embed     *gmodel.Variable // [V, D]
	head      *gmodel.Variable // [D, V], nil when tied
	blocks    []blockParams
	finalNorm normParams // unused (nil variables) for post-norm

	// Optional parameters, nil when their setting is off.
	sinkToken *gmodel.Variable // bias sink_token: the learned token embedding [D]
	wpe       *gmodel.Variable // position learnable: [length, D]
	relBias   *gmodel.Variable // position relative: [buckets, H], shared by the layers

	params []*gmodel.Variable // trainable, in a fixed order
	decays []bool             // parallel to params: weight decay applies (optimizer decay)
	m1, m2 []*gmodel.Variable // AdamW moments, parallel to params (none when measureOnly)
	// measureOnly: built from given weights with train.steps 0; it has no
	// optimiser state and no training step.
	measureOnly bool
	nParam      int64

	mu        sync.Mutex
	adamStep  int64 // optimiser updates applied so far (bias correction uses adamStep+1)
	gradNorm  float64
	trainExec *gmodel.Exec
	evalExec  *gmodel.Exec
	probeExec *gmodel.Exec
}

// ProbeOutput holds the probe's per-layer tensors, row-major.
type ProbeOutput struct {
	N, T, Layers, Heads int
	// Slots is the number of slot columns (0 or 1) placed before token 1 in
	// every attention row: the key of bias k or kv, the sink token, or the
	// learned sink logit. Column 0 is then the slot and column 1 is token 1.
	Slots int
	// Attention per layer: [N][H][T][Slots+T], rows = queries (tokens 1..T);
	// the op's weights as used to mix the values, slot included (softmax rows
	// sum to 1; sigmoid Z=one raw values; zeros where keys are masked).
	Attention [][]float32
	// Visible per layer: [T][Slots+T], true where the column (slot or token)
	// is visible to the query under the mask (the slot always is). Weights are
	// exactly 0 where it is false. alpha_k (docs/metrics.md#alpha_k) averages over the queries
	// that can see token k: with window, shifted_window and prefix masks these
	// are not simply the queries t >= k.
	Visible [][]bool
	// Documents is each token's document index, [N][T] (Model.Documents),
	// with a document mask (model.DocumentMask); nil without one. A token
	// column is visible to a query only when Visible says so and both
	// tokens have the same index.
	Documents []int32
	// Hidden per layer: [N][T] L2 norm of the residual stream after the block
	// (before the final norm).
	Hidden [][]float32
	// Keys per layer: [N][H][T] L2 norm of the post-RoPE key vectors.
	Keys [][]float32
	// Values per layer: [N][H][T] L2 norm of the value vectors.
	Values [][]float32
}

// New builds the model, its seeded variables and its executors.
func New(backend compute.Backend, m config.Model, t config.Train, seed int64) (*Model, error) {
	return build(backend, m, t, seed, defaultFast, nil)
}

// Weights gives a parameter's initial values in its layout (see weights.go),
// e.g. read from a Hugging Face checkpoint.
type Weights func(p config.Param) ([]float32, error)

// NewWithWeights builds the model with its parameters taken from weights
// instead of the seeded initialiser. With t.Steps == 0 the model only
// measures: it has no optimiser state and no training step, so a model's
// memory is its weights (4 bytes a parameter) plus the activations of a pass.
// Each parameter is created straight from its loaded values: one tensor's
// copy is in flight at a time.
func NewWithWeights(backend compute.Backend, m config.Model, t config.Train, weights Weights) (*Model, error) {
	if weights == nil {
		return nil, fmt.Errorf("model: nil weights")
	}
	return build(backend, m, t, 0, defaultFast, weights)
}

// build is New with the fast-path switches given and, optionally, the
// weights to start from.
func build(backend compute.Backend, m config.Model, t config.Train, seed int64, fast fastSwitches, weights Weights) (mdl *Model, err error) {
	if backend == nil {
		return nil, fmt.Errorf("model: nil backend")
	}
	measureOnly := t.Steps == 0 && weights != nil
	vt := t
	if measureOnly {
		vt = config.Default().Train // nothing to train: check the architecture alone
	}
	if err := config.ValidateModel(m, vt).Err(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	opSpec, _ := config.AttentionOpNamed(m.Attention.Op)
	op, ok := attentionGraphs[m.Attention.Op]
	if !ok {
		return nil, fmt.Errorf("model: attention %s has no graph function", m.Attention.Op) // a catalogue entry without its attentionGraphs entry
	}
	enableFastPath()
	defer recoverInto(&err, "model.New")
	mdl = &Model{
		backend: backend, cfg: m, train: t, seed: seed,
		headDim: m.HeadDimOrDefault(), hidden: m.FFN.HiddenOrDefault(m.DModel), fast: fast, op: op, opSpec: opSpec,
		store: gmodel.NewStore(), measureOnly: measureOnly,
	}
	if err := mdl.createVariables(weights); err != nil {
		return nil, err
	}
	if !measureOnly {
		mdl.trainExec, err = gmodel.NewExec(backend, mdl.store, mdl.trainGraph)
		if err != nil {
			return nil, err
		}
	}
	mdl.evalExec, err = gmodel.NewExec(backend, mdl.store, mdl.evalGraph)
	if err != nil {
		return nil, err
	}
	mdl.probeExec, err = gmodel.NewExec(backend, mdl.store, mdl.probeGraph)
	if err != nil {
		return nil, err
	}
	return mdl, nil
}

// createVariables creates every parameter of config.Model.Params (the
// catalogue's list, in its order) with a seeded host-side initialiser, or
// from weights when given, and the zeroed AdamW moments (none for a
// measure-only model). Each variable draws from its own PCG stream
// seeded by (seed, hash of its path), so values do not depend on creation
// order or on GoMLX's graph RNG.
func (m *Model) createVariables(weights Weights) error {
	normal := func(path string, n int, std float64) []float32 {
		h := fnv.New64a()
		h.Write([]byte(path))
		rng := rand.New(rand.NewPCG(uint64(m.seed), h.Sum64()))
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(rng.NormFloat64() * std)
		}
		return out
	}
	vars := map[string]*gmodel.Variable{}
	for _, p := range m.cfg.Params() {
		n := int(p.Size())
		var vals []float32
		switch {
		case weights != nil:
			var err error
			if vals, err = weights(p); err != nil {
				return fmt.Errorf("model: loading %s: %w", p.Path, err)
			}
			if len(vals) != n {
				return fmt.Errorf("model: loading %s: got %d values for shape %v", p.Path, len(vals), p.Dims)
			}
		case p.Init == config.InitOnes:
			vals = make([]float32, n)
			for i := range vals {
				vals[i] = 1
			}
		case p.Init == config.InitZeros:
			vals = make([]float32, n)
		default:
			std := p.Std
			if std == 0 {
				std = m.cfg.InitStd
			}
			vals = normal(p.Path, n, std)
		}
		v, err := m.store.CreateVariable(p.Path, tensors.FromFlatDataAndDimensions(vals, p.Dims...))
		if err != nil {
			return fmt.Errorf("model: creating %s: %w", p.Path, err)
		}
		vars[p.Path] = v
		m.params = append(m.params, v)
		m.decays = append(m.decays, p.Matrix || m.train.Optimizer.Decay != "matrices")
		m.nParam += int64(n)
	}
	m.bindVariables(vars)
	if m.measureOnly {
		return nil
	}
	for _, p := range m.params {
		shape := p.Shape()
		v1, err := m.store.CreateVariable("/adamw"+p.Path()+"/m", tensors.FromShape(shape))
		if err != nil {
			return fmt.Errorf("model: creating the moments of %s: %w", p.Path(), err)
		}
		v2, err := m.store.CreateVariable("/adamw"+p.Path()+"/v", tensors.FromShape(shape))
		if err != nil {
			return fmt.Errorf("model: creating the moments of %s: %w", p.Path(), err)
		}
		v1.SetTrainable(false)
		v2.SetTrainable(false)
		m.m1 = append(m.m1, v1)
		m.m2 = append(m.m2, v2)
	}
	return nil
}

// bindVariables points the model's fields at the variables of their paths
// (nil for parameters the config does not have).
func (m *Model) bindVariables(vars map[string]*gmodel.Variable) {
	norm := func(scope string) normParams { return normParams{gain: vars[scope+"/gain"], bias: vars[scope+"/bias"]} }
	m.embed, m.head = vars["/embed"], vars["/head"]
	m.wpe, m.relBias, m.sinkToken = vars["/position/learnable"], vars["/position/relative"], vars["/sink_token"]
	m.finalNorm = norm("/final_norm")
	m.blocks = make([]blockParams, m.cfg.Layers)
	for l := range m.blocks {
		s := fmt.Sprintf("/layer_%d", l)
		bp := &m.blocks[l]
		bp.norm1, bp.norm2 = norm(s+"/norm1"), norm(s+"/norm2")
		bp.wqkv, bp.wo, bp.wg = vars[s+"/attn/wqkv"], vars[s+"/attn/wo"], vars[s+"/attn/gate"]
		bp.kStar, bp.vStar = vars[s+"/attn/k_bias"], vars[s+"/attn/v_bias"]
		bp.w1, bp.w2 = vars[s+"/ffn/w1"], vars[s+"/ffn/w2"]
		bp.bqkv, bp.bo, bp.b1, bp.b2 = vars[s+"/attn/bqkv"], vars[s+"/attn/bo"], vars[s+"/ffn/b1"], vars[s+"/ffn/b2"]
		if m.opSpec.LayerParams != nil {
			bp.opParams = map[string]*gmodel.Variable{}
			for _, p := range m.opSpec.LayerParams(m.cfg, s+"/attn") {
				bp.opParams[strings.TrimPrefix(p.Path, s+"/attn/")] = vars[p.Path]
			}
		}
	}
}

// trainGraph: inputs tokens [B,T], targets [B,T], hyper [4] (see optim.go)
// and, with train.layer_drop, LayerDrop's keep [B, layers];
// outputs the loss before the update and the global gradient norm.
func (m *Model) trainGraph(scope *gmodel.Scope, inputs []*Node) []*Node {
	tokens, targets, hyper := inputs[0], inputs[1], inputs[2]
	var keep *Node
	if len(inputs) > 3 {
		keep = inputs[3]
	}
	asParameters(scope, tokens.Graph())
	loss := m.batchLoss(scope, tokens, targets, keep) // crossEntropy of forward, in two halves (fastpath.go)
	gradNorm := m.adamwUpdate(loss, hyper)
	return []*Node{loss, gradNorm}
}

func (m *Model) evalGraph(scope *gmodel.Scope, tokens, targets *Node) *Node {
	asParameters(scope, tokens.Graph())
	return m.batchLoss(scope, tokens, targets, nil)
}

func (m *Model) probeGraph(scope *gmodel.Scope, tokens *Node) []*Node {
	asParameters(scope, tokens.Graph())
	rec := m.probeForward(scope, tokens) // forward, in two halves (fastpath.go)
	var out []*Node
	out = append(out, rec.attention...)
	out = append(out, rec.hidden...)
	out = append(out, rec.keys...)
	out = append(out, rec.values...)
	return out
}

// asParameters marks a graph as training so variables are fed as parameters.
// The Go backend advertises PreferConstantsForVariables: in a graph not marked
// as training, variables that already hold a value are frozen into the
// compiled graph as constants, so later updates would be silently ignored
// (the eval and probe graphs would keep measuring the weights they were
// compiled with). The model has no dropout, so "training" changes nothing else.
func asParameters(scope *gmodel.Scope, g *Graph) { scope.SetTraining(g, true) }

// splitTokens turns batch rows of length T+1 into inputs row[:T] and targets row[1:].
func splitTokens(tokens []int32, batch int) (in, tgt *tensors.Tensor, T int, err error) {
	if batch < 1 || len(tokens) == 0 || len(tokens)%batch != 0 {
		return nil, nil, 0, fmt.Errorf("model: %d tokens do not split into %d rows", len(tokens), batch)
	}
	row := len(tokens) / batch
	T = row - 1
	if T < 1 {
		return nil, nil, 0, fmt.Errorf("model: rows of %d tokens are too short (need T+1 >= 2)", row)
	}
	a := make([]int32, batch*T)
	b := make([]int32, batch*T)
	for i := 0; i < batch; i++ {
		copy(a[i*T:(i+1)*T], tokens[i*row:i*row+T])
		copy(b[i*T:(i+1)*T], tokens[i*row+1:(i+1)*row])
	}
	return tensors.FromFlatDataAndDimensions(a, batch, T), tensors.FromFlatDataAndDimensions(b, batch, T), T, nil
}

func (m *Model) checkTokens(tokens []int32) error {
	for _, t := range tokens {
		if t < 0 || int(t) >= m.cfg.Vocab {
			return fmt.Errorf("model: token %d outside vocabulary [0,%d)", t, m.cfg.Vocab)
		}
	}
	return nil
}

// TrainStep runs one optimiser step on tokens (batch rows of length T+1) at
// global step `step` (0-based, for the schedule) and returns the mean
// cross-entropy before the update.
func (m *Model) TrainStep(tokens []int32, batch int, step int) (loss float64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkTokens(tokens); err != nil {
		return 0, err
	}
	in, tgt, _, err := splitTokens(tokens, batch)
	if err != nil {
		return 0, err
	}
	if m.measureOnly {
		return 0, fmt.Errorf("model.TrainStep: the model was built to measure only (train.steps 0)")
	}
	defer recoverInto(&err, "model.TrainStep")
	hyper := tensors.FromFlatDataAndDimensions(m.hyper(step, m.adamStep+1), 4)
	args := []any{in, tgt, hyper}
	if p := m.train.LayerDrop; p > 0 {
		keep := layerKeep(m.seed, step, batch, m.cfg.Layers, p)
		args = append(args, tensors.FromFlatDataAndDimensions(keep, batch, m.cfg.Layers))
	}
	outs, err := m.trainExec.Call(args...)
	if err != nil {
		return 0, fmt.Errorf("model.TrainStep: %w", err)
	}
	loss = scalar(outs[0])
	m.gradNorm = scalar(outs[1])
	m.adamStep++
	return loss, nil
}

// GradNorm is the global gradient norm (before clipping) of the last TrainStep.
func (m *Model) GradNorm() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gradNorm
}

// EvalLoss is the mean next-token cross-entropy on tokens, without an update.
func (m *Model) EvalLoss(tokens []int32, batch int) (loss float64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkTokens(tokens); err != nil {
		return 0, err
	}
	in, tgt, _, err := splitTokens(tokens, batch)
	if err != nil {
		return 0, err
	}
	defer recoverInto(&err, "model.EvalLoss")
	outs, err := m.evalExec.Call(in, tgt)
	if err != nil {
		return 0, fmt.Errorf("model.EvalLoss: %w", err)
	}
	return scalar(outs[0]), nil
}

// Probe runs the forward pass on n sequences of length T (row-major, no
// targets) and returns per-layer attention weights and norms.
func (m *Model) Probe(tokens []int32, n, T int) (out *ProbeOutput, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n < 1 || T < 1 || len(tokens) != n*T {
		return nil, fmt.Errorf("model.Probe: %d tokens for %d sequences of length %d", len(tokens), n, T)
	}
	if err := m.checkTokens(tokens); err != nil {
		return nil, err
	}
	defer recoverInto(&err, "model.Probe")
	outs, err := m.probeExec.Call(tensors.FromFlatDataAndDimensions(append([]int32(nil), tokens...), n, T))
	if err != nil {
		return nil, fmt.Errorf("model.Probe: %w", err)
	}
	L := m.cfg.Layers
	if len(outs) != 4*L {
		return nil, fmt.Errorf("model.Probe: got %d outputs, want %d", len(outs), 4*L)
	}
	out = &ProbeOutput{N: n, T: T, Layers: L, Heads: m.cfg.Heads, Slots: m.Slots(), Documents: m.Documents(tokens, n, T)}
	for l := 0; l < L; l++ {
		out.Visible = append(out.Visible, m.probeVisible(l, T))
	}
	for i, t := range outs {
		flat := tensors.MustCopyFlatData[float32](t)
		t.MustFinalizeAll()
		switch i / L {
		case 0:
			out.Attention = append(out.Attention, flat)
		case 1:
			out.Hidden = append(out.Hidden, flat)
		case 2:
			out.Keys = append(out.Keys, flat)
		case 3:
			out.Values = append(out.Values, flat)
		}
	}
	return out, nil
}

// Slots is the number of slot columns before token 1 in the probe's
// attention rows (ProbeOutput.Slots): 1 with bias k, kv or sink_token, or the
// sink_logit op; else 0.
func (m *Model) Slots() int { return m.cfg.Slots() }

// NumParams is the number of trainable parameters.
func (m *Model) NumParams() int64 { return m.nParam }

// FLOPsPerStep approximates the training FLOPs of one step on batch×T tokens:
// 6·params·tokens for the matmuls plus 3× the forward attention products
// (scores and mixing: 2·2·B·H·T²·dh per layer).
func (m *Model) FLOPsPerStep(batch, T int) float64 {
	tokens := float64(batch) * float64(T)
	attn := 4 * float64(batch) * float64(m.cfg.Heads) * float64(T) * float64(T) * float64(m.headDim) * float64(m.cfg.Layers)
	return 6*float64(m.nParam)*tokens + 3*attn
}

func scalar(t *tensors.Tensor) float64 {
	var v float64
	tensors.MustConstFlatData[float32](t, func(flat []float32) { v = float64(flat[0]) })
	t.MustFinalizeAll()
	return v
}

// recoverInto turns a GoMLX panic into an error.
func recoverInto(err *error, where string) {
	if r := recover(); r != nil {
		if e, ok := r.(error); ok {
			*err = fmt.Errorf("%s: %w", where, e)
		} else {
			*err = fmt.Errorf("%s: %v\n%s", where, r, debug.Stack())
		}
	}
}

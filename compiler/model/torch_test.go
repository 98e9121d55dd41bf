package model

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

// TestAgainstPyTorch trains the same initial weights on the same tokens with
// an independent PyTorch implementation (testdata/torch_check.py: F.layer_norm,
// torch.optim.AdamW, clip_grad_norm_) and compares losses and gradient norms
// step by step. It needs python3 with torch; run it with SINKRUN_TORCH=1.
func TestAgainstPyTorch(t *testing.T) {
	if os.Getenv("SINKRUN_TORCH") == "" {
		t.Skip("set SINKRUN_TORCH=1 (needs python3 with torch)")
	}
	python := "/usr/bin/python3"
	if p := os.Getenv("SINKRUN_PYTHON"); p != "" {
		python = p
	}
	tests := []struct {
		name   string
		modify func(*config.Run)
	}{
		{"reference", func(r *config.Run) {
			*r = refRun()
			r.Train.Schedule = config.Schedule{Kind: "cosine", Warmup: 2, MinLR: 0.1}
		}},
		{"tiny_clip_active", func(r *config.Run) { r.Train.Optimizer.Clip = 0.05 }},
		{"post_layernorm_gelu_tied", func(r *config.Run) {
			r.Model.Norm = config.Norm{Kind: "layernorm", Placement: "post", Eps: 1e-5}
			r.Model.FFN.Kind = "gelu"
			r.Model.Tied = true
		}},
		{"nope_sigmoid_one_reglu", func(r *config.Run) {
			r.Model.Position.Kind = "nope"
			r.Model.Attention = config.Attention{Op: "sigmoid", Z: "one"}
			r.Model.FFN.Kind = "reglu"
		}},
		{"sigmoid_sum_geglu_linear_noclip", func(r *config.Run) {
			r.Model.Attention = config.Attention{Op: "sigmoid", Z: "sum"}
			r.Model.FFN.Kind = "geglu"
			r.Train.Optimizer.Clip = 0
			r.Train.Schedule = config.Schedule{Kind: "linear", Warmup: 1, MinLR: 0}
		}},
		{"swish_post_rmsnorm_headdim8", func(r *config.Run) { r.Model.FFN.Kind = "swish"; r.Model.HeadDim = 8; r.Model.Norm.Placement = "post" }},
		{"relu_pre_layernorm", func(r *config.Run) { r.Model.FFN.Kind = "relu"; r.Model.Norm.Kind = "layernorm" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tinyRun()
			r.Model.InitStd = 0.1
			r.Train.Steps = 6
			tc.modify(&r)
			const B, T, steps = 4, 16, 6
			m := newModel(t, r, 3)
			dir := t.TempDir()
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(9, 9))
			var batches [][]int32
			var tokBytes []byte
			var lrs []float64
			for s := 0; s < steps; s++ {
				b := randomTokens(rng, B*(T+1), r.Model.Vocab)
				batches = append(batches, b)
				for _, x := range b {
					tokBytes = binary.LittleEndian.AppendUint32(tokBytes, uint32(x))
				}
				lrs = append(lrs, m.LearningRate(s))
			}
			cfg, _ := json.Marshal(map[string]any{"model": r.Model, "train": r.Train, "batch": B, "T": T, "steps_to_run": steps, "lrs": lrs})
			must(t, os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644))
			must(t, os.WriteFile(filepath.Join(dir, "tokens.bin"), tokBytes, 0o644))
			out, err := exec.Command(python, "testdata/torch_check.py", dir).CombinedOutput()
			if err != nil {
				t.Fatalf("torch_check.py: %v\n%s", err, out)
			}
			var ref struct {
				Losses    []float64 `json:"losses"`
				GradNorms []float64 `json:"grad_norms"`
			}
			if err := json.Unmarshal(out, &ref); err != nil {
				t.Fatalf("torch output %q: %v", out, err)
			}
			for s := 0; s < steps; s++ {
				loss, err := m.TrainStep(batches[s], B, s)
				if err != nil {
					t.Fatal(err)
				}
				gn := m.GradNorm()
				t.Logf("step %d: loss go %.6f torch %.6f | grad norm go %.6f torch %.6f", s, loss, ref.Losses[s], gn, ref.GradNorms[s])
				if math.Abs(loss-ref.Losses[s]) > 2e-4*math.Max(1, ref.Losses[s]) {
					t.Errorf("step %d: loss %v, torch %v", s, loss, ref.Losses[s])
				}
				if math.Abs(gn-ref.GradNorms[s]) > 2e-3*ref.GradNorms[s] {
					t.Errorf("step %d: grad norm %v, torch %v", s, gn, ref.GradNorms[s])
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

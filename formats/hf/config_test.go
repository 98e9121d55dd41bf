package hf

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPublishedConfigs parses the config.json of published checkpoints
// (testdata/configs, copied from their model cards) and checks the
// architecture and the parameter count each model is known by.
func TestPublishedConfigs(t *testing.T) {
	tests := []struct {
		file   string
		params int64
		check  func(a Arch) bool
	}{
		{"gpt2.json", 124_439_808, func(a Arch) bool {
			return a.Layers == 12 && a.HeadDim == 64 && a.FFN == FFN{Act: GELUTanh, Width: 3072} && a.TiedEmbeddings &&
				a.Position == Position{Kind: Learned, Rows: 1024} && a.BOS == 50256 && a.DType == F32
		}},
		{"llama-2-7b.json", 6_738_415_616, func(a Arch) bool {
			return a.KVHeads == 32 && a.Norm == Norm{Kind: RMSNorm, Eps: 1e-5, Pre: true} && a.FFN.Gated &&
				a.Position.Scaling.Kind == "" && a.Position.RotaryDims == 128 && a.DType == F16 && a.BOS == 1
		}},
		{"llama-3.1-8b-instruct.json", 8_030_261_248, func(a Arch) bool {
			return a.KVHeads == 8 && a.Position.Base == 500000 && slices.Equal(a.EOS, []int{128001, 128008, 128009}) &&
				a.Position.Scaling == RoPEScaling{Kind: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192} &&
				a.DType == BF16
		}},
		{"mistral-7b-v0.1.json", 7_241_732_096, func(a Arch) bool {
			return a.KVHeads == 8 && a.SlidingWindow == 4096 && a.CheckSequence(64) == nil && a.CheckSequence(5000) != nil
		}},
		{"qwen2-0.5b.json", 494_032_768, func(a Arch) bool {
			return a.Bias == Biases{QKV: true} && a.TiedEmbeddings && a.SlidingWindow == 0 && a.HeadDim == 64 && a.KVHeads == 2
		}},
		{"pythia-160m.json", 162_322_944, func(a Arch) bool {
			return a.ParallelResidual && a.Position.RotaryDims == 16 && a.FFN.Act == GELU && !a.TiedEmbeddings &&
				a.Bias == Biases{true, true, true} && a.Norm.Bias
		}},
		{"opt-125m.json", 125_239_296, func(a Arch) bool {
			return a.Position == Position{Kind: Learned, Offset: 2, Rows: 2050} && a.FFN.Act == ReLU && a.Norm.Pre && a.FinalNorm && a.BOS == 2
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			a, err := readConfigFile(t, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if got := ParamCount(a); got != tc.params {
				t.Errorf("%d parameters, want %d", got, tc.params)
			}
			if !tc.check(a) {
				t.Errorf("unexpected arch %+v", a)
			}
		})
	}
	_, err := readConfigFile(t, "opt-350m.json")
	if err == nil || !strings.Contains(err.Error(), `field "word_embed_proj_dim": 512 differs from hidden_size 1024`) {
		t.Errorf("opt-350m: %v", err)
	}
}

func readConfigFile(t *testing.T, name string) (Arch, error) {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, filepath.Join("testdata", "configs", name), filepath.Join(dir, ConfigFile))
	return ReadConfig(dir)
}

func TestPlanFigures(t *testing.T) {
	a := Preset("gpt2-xl")
	if n := ParamCount(a); n != 1_557_611_200 {
		t.Errorf("GPT-2 XL: %d parameters, want 1557611200", n)
	}
	if Float32Bytes(a) != 4*ParamCount(a) || DiskBytes(a, BF16) != 2*ParamCount(a) {
		t.Error("byte estimates do not follow the parameter count")
	}
	// 2 * (non-embedding params) * T + 4 * L * H * dh * T(T+1)/2.
	nonEmbed := ParamCount(a) - int64(a.Vocab+a.MaxPositions)*int64(a.DModel)
	var biasesAndNorms int64 = int64(a.Layers)*(3*1600+1600+6400+1600+4*1600) + 2*1600
	want := 2*(nonEmbed-biasesAndNorms)*64 + 4*48*1600*64*65/2
	if got := ForwardFLOPs(a, 64, false); got != want {
		t.Errorf("ForwardFLOPs = %d, want %d", got, want)
	}
	if ForwardFLOPs(a, 64, true)-ForwardFLOPs(a, 64, false) != 2*64*50257*1600 {
		t.Error("logits FLOPs")
	}
}

func TestArchString(t *testing.T) {
	a, err := readConfigFile(t, "llama-3.1-8b-instruct.json")
	if err != nil {
		t.Fatal(err)
	}
	want := "llama: 32 layers, d 4096, 32 heads (8 kv) x 128, gated silu ffn 14336, pre-rmsnorm, rope 500000 llama3 x8, untied"
	if a.String() != want {
		t.Errorf("got  %s\nwant %s", a, want)
	}
	if got := Preset("tiny-gpt_neox").String(); !strings.Contains(got, "rope 10000 on 4/8 dims, parallel residual") {
		t.Errorf("neox: %s", got)
	}
}

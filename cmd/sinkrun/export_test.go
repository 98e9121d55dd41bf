package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/formats/hf"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/data"
	"github.com/sinkrun/sinkrun/runtime/measure"
	"github.com/sinkrun/sinkrun/runtime/runner"
	"github.com/sinkrun/sinkrun/test/hfref"
)

// exportStudy trains the models the export test checks: the quickstart's
// softmax model (experiments/quickstart.sink, seed 1), which grows a real
// sink (Sink_1 100% at step 1000), and a few steps of one model per Hugging
// Face family export writes, each with the features its family adds.
const exportStudy = `experiment sink {
  model { layers 1; heads 4; d_model 64; attention softmax }
  data {
    corpus bigram_backcopy(vocab: 64, triggers: 3, successors: 3, trigger_rate: 0.1)
    context 64
    first_token fixed(token: 64)
  }
  train {
    steps 1000
    batch 16
    optimizer adamw(lr: 1e-2, weight_decay: 1.0)
    schedule cosine(warmup: 50, min_lr: 0.1)
  }
  measure { every 0 }
}

experiment families {
  model { layers 2; heads 4; d_model 32 }
  data { corpus bigram_backcopy(vocab: 32, triggers: 2); context 32; first_token fixed(token: 32) }
  train { steps 30; batch 8; optimizer adamw(lr: 1e-2) }
  measure { every 0; probe_sequences 8; probe_length 32; val_batches 1 }
  variants {
    llama_gqa { model { kv_heads 2 } }
    qwen2 { model { linear_bias qkv; tied true } }
    gpt2 { model { norm layernorm; position learnable; ffn gelu_tanh; linear_bias all; tied true } }
    gpt_neox { model { norm layernorm; ffn gelu; linear_bias all; residual parallel; position rope(rotary_dims: 4) } }
    opt { model { norm layernorm; position learnable(offset: 2); ffn relu; linear_bias all; tied true } }
  }
}
`

// maxMapDiff is issue 10's bound on |A_torch - A_sinkrun|.
const maxMapDiff = 1e-4

// TestExportMatchesTorch trains the study with --keep-weights, exports
// every run, and checks each checkpoint against the independent PyTorch
// forward pass (test/hfref) on the run's own probe sequences: the attention
// maps of every layer, head and sequence within maxMapDiff of sinkrun's
// forward pass on the kept weights, and the same Sink_1 as the run measured.
// The kept weights must be the final ones: probing them gives the run's
// final Sink_1. Without torch only the export is checked, unless
// SINKRUN_TORCH=1 makes torch required (CI).
func TestExportMatchesTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model for ~30 s")
	}
	py, pyErr := hfref.Python()
	if pyErr != nil && os.Getenv("SINKRUN_TORCH") == "1" {
		t.Fatalf("SINKRUN_TORCH=1: %v", pyErr)
	}
	dir := t.TempDir()
	sink := filepath.Join(dir, "export.sink")
	if err := os.WriteFile(sink, []byte(exportStudy), 0o644); err != nil {
		t.Fatal(err)
	}
	res := filepath.Join(dir, "results")
	var stdout, stderr bytes.Buffer
	if code := dispatch(context.Background(), []string{"run", "--keep-weights", "--progress", "lines", "-j", "1", "--out", res, sink},
		&stdout, &stderr); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr.String())
	}
	exps, err := compiler.CompileFiles([]string{sink})
	if err != nil {
		t.Fatal(err)
	}
	final := map[string]float64{}
	rows, err := table.ReadRuns(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		final[r.ID] = r.Final("final_sink1").Value
	}
	n := 0
	for _, e := range exps {
		for _, run := range e.Runs {
			n++
			name := run.Experiment + "/" + variedText(run.Varied)
			t.Run(name, func(t *testing.T) {
				ckpt := filepath.Join(dir, "export", run.ID())
				var stdout, stderr bytes.Buffer
				args := []string{"export", "--results", res, "--out", ckpt, "--run", strconv.Itoa(n), sink}
				if code := dispatch(context.Background(), args, &stdout, &stderr); code != exitOK {
					t.Fatalf("export: exit %d\n%s", code, stderr.String())
				}
				t.Log(strings.TrimSpace(stdout.String()))
				ck, err := hf.Open(ckpt)
				if err != nil {
					t.Fatal(err)
				}
				ck.Close()
				if want := wantFamily(e.Name, run); ck.Arch.Family != want {
					t.Errorf("exported as %s, want %s", ck.Arch.Family, want)
				}
				if ck.Arch.BOS != run.Data.FirstToken.Token {
					t.Errorf("bos_token_id %d, want the run's first token %d", ck.Arch.BOS, run.Data.FirstToken.Token)
				}

				if e.Name == "sink" {
					checkHalfSharded(t, res, sink, ckpt+"-bf16")
				}

				tokens, goMaps, goSink1 := probeKept(t, run, runner.WeightsDir(res, run))
				if goSink1 != final[run.ID()] {
					t.Errorf("the kept weights give Sink_1 %.2f%%, the run measured %.2f%% at its end", goSink1, final[run.ID()])
				}
				if e.Name == "sink" && goSink1 < 90 {
					t.Errorf("the quickstart model grew no sink: Sink_1 %.2f%%", goSink1)
				}
				if pyErr != nil {
					t.Skipf("no torch reference: %v", pyErr)
				}
				ref, err := hfref.Run(py, ckpt, tokens, filepath.Join(dir, "torch", run.ID()), hfref.Options{})
				if err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				for l := range run.Model.Layers {
					shape, maps, err := ref.Maps(l)
					if err != nil {
						t.Fatal(err)
					}
					if len(maps) != len(goMaps[l]) {
						t.Fatalf("layer %d: torch maps %v (%d values), sinkrun %d values", l, shape, len(maps), len(goMaps[l]))
					}
					for i, p := range maps {
						worst = max(worst, math.Abs(float64(p)-float64(goMaps[l][i])))
					}
				}
				if worst > maxMapDiff {
					t.Errorf("max |A_torch - A_sinkrun| = %.3g over every layer, head and sequence, want <= %g", worst, maxMapDiff)
				}
				if math.Abs(ref.Summary.Sink1Pct-goSink1) > 1e-9 {
					t.Errorf("Sink_1: torch %.4f%%, sinkrun %.4f%%", ref.Summary.Sink1Pct, goSink1)
				}
				t.Logf("%s as %s: %d sequences x %d tokens, max |A_torch - A_sinkrun| %.3g, Sink_1 torch %.2f%% sinkrun %.2f%%",
					run.ID(), ck.Arch.Family, len(tokens), len(tokens[0]), worst, ref.Summary.Sink1Pct, goSink1)
			})
		}
	}
}

// checkHalfSharded exports the file's first run as BF16 in 2 shards and
// reads it back: the index, both shards, and their dtype.
func checkHalfSharded(t *testing.T, res, sink, out string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := []string{"export", "--results", res, "--out", out, "--run", "1", "--dtype", "BF16", "--shards", "2", sink}
	if code := dispatch(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("export --dtype BF16 --shards 2: exit %d\n%s", code, stderr.String())
	}
	ck, err := hf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	for _, f := range []string{hf.IndexFile, "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("BF16 export in 2 shards: %v", err)
		}
	}
	if ck.Arch.DType != hf.BF16 {
		t.Errorf("torch_dtype %s, want BF16", ck.Arch.DType)
	}
}

// wantFamily is the family each run of exportStudy must export as.
func wantFamily(experiment string, run config.Run) hf.Family {
	if experiment == "sink" {
		return hf.Llama
	}
	variant := ""
	for _, v := range run.Varied {
		variant = v.Value
	}
	switch variant {
	case "llama_gqa":
		return hf.Llama
	case "qwen2":
		return hf.Qwen2
	case "gpt2":
		return hf.GPT2
	case "gpt_neox":
		return hf.GPTNeoX
	case "opt":
		return hf.OPT
	}
	return hf.Family("variant " + variant)
}

// probeKept loads a run's kept weights and probes them on the run's own
// probe set: the sequences, every layer's attention maps [N, H, T, T] and
// Sink_1 as the run measures it.
func probeKept(t *testing.T, run config.Run, weights string) ([][]int, [][]float32, float64) {
	t.Helper()
	m, err := loadKept(run, weights)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.NewCache().Load(run.Data, run.SourceDir)
	if err != nil {
		t.Fatal(err)
	}
	probe, err := ds.ProbeFor(run.Measure)
	if err != nil {
		t.Fatal(err)
	}
	N, T := run.Measure.ProbeSequences, run.Measure.ProbeLength
	out, err := m.Probe(probe, N, T)
	if err != nil {
		t.Fatal(err)
	}
	if out.Slots != 0 {
		t.Fatalf("an exported model has %d slot columns", out.Slots)
	}
	rep, err := measure.Analyze(measure.Probe{N: out.N, T: out.T, Layers: out.Layers, Heads: out.Heads, Slots: out.Slots,
		Visible: out.Visible, Attention: out.Attention, Hidden: out.Hidden, Keys: out.Keys, Values: out.Values}, measure.OptionsFor(run))
	if err != nil {
		t.Fatal(err)
	}
	sink1 := math.NaN()
	for _, s := range rep.Sink {
		if s.K == 1 && s.Eps == 0.3 {
			sink1 = s.Percent
		}
	}
	tokens := make([][]int, N)
	for s := range tokens {
		tokens[s] = make([]int, T)
		for i := range T {
			tokens[s][i] = int(probe[s*T+i])
		}
	}
	return tokens, out.Attention, sink1
}

// TestExportRefuses: a model no Hugging Face family expresses is refused
// before any weights are looked for, naming every setting that prevents
// it; the other mistakes are refused with what to do.
func TestExportRefuses(t *testing.T) {
	const model = `experiment e {
  model { layers 1; heads 2; d_model 16; %s }
  data { corpus bigram_backcopy(vocab: 16, triggers: 2); context 64 }
  train { steps 10; batch 4 }
}
`
	for _, tc := range []struct {
		name, settings string
		args           []string
		code           int
		want           []string
	}{
		{"sigmoid attention", "attention sigmoid", nil, exitError, []string{"no Hugging Face architecture", "attention sigmoid"}},
		{"key bias slot", "bias k", nil, exitError, []string{"bias k"}},
		{"alibi", "position alibi", nil, exitError, []string{"position alibi"}},
		{"sinusoidal positions", "position absolute", nil, exitError, []string{"position absolute"}},
		{"attention gate", "attention softmax(gate: head)", nil, exitError, []string{"attention output gate"}},
		{"sliding window mask", "mask window(size: 4)", nil, exitError, []string{"mask window"}},
		{"head sum", "head_combine sum", nil, exitError, []string{"head_combine sum"}},
		{"every reason at once", "attention sigmoid; bias k; position alibi", nil, exitError,
			[]string{"attention sigmoid", "bias k", "position alibi"}},
		{"post-norm llama", "norm rmsnorm(placement: post)", nil, exitError, []string{"llama cannot express this model: needs pre-RMSNorm with a final norm"}},
		{"no kept weights", "", nil, exitError, []string{"no kept weights", "--keep-weights"}},
		{"no --out", "", []string{"--out="}, exitUsage, []string{"--out DIR is required"}},
		{"bad dtype", "", []string{"--dtype", "F8"}, exitUsage, []string{"--dtype", "F8"}},
		{"run out of range", "", []string{"--run", "2"}, exitUsage, []string{"--run 2: the file has runs 1 to 1"}},
		{"unknown id", "", []string{"--id", "ffff"}, exitUsage, []string{"--id ffff: no run"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := writeSink(t, strings.Replace(model, "%s", tc.settings, 1))
			args := append([]string{"export", "--results", t.TempDir(), "--out", filepath.Join(t.TempDir(), "ckpt"), sink}, tc.args...)
			var stdout, stderr bytes.Buffer
			code := dispatch(context.Background(), args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

// TestExportPicksRun: a file of several runs needs --run or --id.
func TestExportPicksRun(t *testing.T) {
	sink := writeSink(t, killGrid)
	var stdout, stderr bytes.Buffer
	code := dispatch(context.Background(), []string{"export", "--out", t.TempDir(), sink}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "the file has 6 runs: choose one with --run N") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// TestCopyTokenizer: a bpe run's tokenizer files go next to the weights
// (a tokenizer.json file under any name as tokenizer.json); other runs say
// why the checkpoint has none.
func TestCopyTokenizer(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"tok/tokenizer.json": "{}", "tok/tokenizer_config.json": `{"bos_token": "<s>"}`, "tok/notes.txt": "not a tokenizer file",
		"gpt2/vocab.json": "{}", "gpt2/merges.txt": "#version: 0.2\n",
		"single/my-tokenizer.json": "{}",
	}
	for name, body := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bpe := func(path string) config.Data {
		d := config.Default().Data
		d.Tokenizer = config.Tokenizer{Kind: "bpe", Path: path}
		return d
	}
	bigram := config.Default().Data
	bigram.Corpus.Kind = "bigram_backcopy"
	for _, tc := range []struct {
		name   string
		data   config.Data
		copied []string
		says   string
	}{
		{"tokenizer.json directory", bpe("tok"), []string{"tokenizer.json", "tokenizer_config.json"}, "bpe from"},
		{"vocab and merges", bpe("gpt2"), []string{"vocab.json", "merges.txt"}, "bpe from"},
		{"a tokenizer.json file", bpe("single/my-tokenizer.json"), []string{"tokenizer.json"}, "bpe from"},
		{"bytes", config.Default().Data, nil, "the ids are bytes"},
		{"synthetic", bigram, nil, "bigram_backcopy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			says, err := copyTokenizer(config.Run{Data: tc.data, SourceDir: src}, out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(says, tc.says) {
				t.Errorf("says %q, want %q", says, tc.says)
			}
			entries, _ := os.ReadDir(out)
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if len(got) != len(tc.copied) {
				t.Errorf("copied %v, want %v", got, tc.copied)
			}
			for _, f := range tc.copied {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("not copied: %v", err)
				}
			}
		})
	}
	if _, err := copyTokenizer(config.Run{Data: bpe("missing"), SourceDir: src}, t.TempDir()); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing tokenizer: %v", err)
	}
}

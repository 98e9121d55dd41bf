package compiler

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/formats/hf"
	"github.com/sinkrun/sinkrun/formats/pretrained"
)

// makeCheckpoint writes a preset checkpoint with random weights in dir and,
// unless vocab is 0, the OPT-layout tokenizer fixture (261 ids, BOS "</s>"
// = 2) with the architecture's vocabulary set to vocab.
func makeCheckpoint(t *testing.T, dir, preset string, vocab int, dtype string) hf.Arch {
	t.Helper()
	a := hf.Preset(preset)
	if vocab > 0 {
		a.Vocab = vocab
		copyTokenizer(t, dir)
	}
	if err := hf.Generate(dir, a, 1, dtype, 1); err != nil {
		t.Fatal(err)
	}
	return a
}

// compileIn compiles src written as dir/t.sink and returns the error text
// (positions relative to dir) or the experiments.
func compileIn(t *testing.T, dir, src string) ([]*Experiment, string) {
	t.Helper()
	path := filepath.Join(dir, "t.sink")
	writeSink(t, path, src)
	exps, err := CompileFiles([]string{path})
	if err != nil {
		return nil, strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
	}
	return exps, ""
}

// A checkpoint's model is the one pretrained.ModelFromArch gives, measured
// without training by default, tokenized with its own tokenizer; vary over
// checkpoints gives one run each.
func TestCheckpointModel(t *testing.T) {
	dir := t.TempDir()
	a := makeCheckpoint(t, filepath.Join(dir, "models", "gpt2"), "tiny-gpt2", 300, "F32")
	makeCheckpoint(t, filepath.Join(dir, "models", "llama"), "tiny-llama", 300, "BF16")
	exps, errs := compileIn(t, dir, `experiment table1 {
  vary model.checkpoint ["models/gpt2", "models/llama"]
  vary data.first_token [none, bos]
}
experiment tune {
  model { checkpoint "models/gpt2" }
  train { steps 10 }
}
`)
	if errs != "" {
		t.Fatal(errs)
	}
	runs := exps[0].Runs
	if len(runs) != 4 {
		t.Fatalf("%d runs, want 4", len(runs))
	}
	want, err := pretrained.ModelFromArch(a)
	if err != nil {
		t.Fatal(err)
	}
	r := runs[0]
	want.Checkpoint, want.CheckpointSHA256 = "models/gpt2", r.Model.CheckpointSHA256
	if r.Model != want {
		t.Errorf("model\n got %+v\nwant %+v", r.Model, want)
	}
	if len(r.Model.CheckpointSHA256) != 64 {
		t.Errorf("fingerprint %q", r.Model.CheckpointSHA256)
	}
	if r.Train.Steps != 0 || r.Data.Tokenizer.Kind != "bpe" || r.Data.Tokenizer.Path != "models/gpt2" || r.Data.Tokenizer.Vocab != 261 {
		t.Errorf("steps %d, tokenizer %+v: want 0 steps and the checkpoint's tokenizer (261 ids)", r.Train.Steps, r.Data.Tokenizer)
	}
	if !strings.Contains(r.JSON(), `"checkpoint_sha256":"`+r.Model.CheckpointSHA256+`"`) {
		t.Errorf("the fingerprint is not in the run's JSON: %s", r.JSON())
	}
	if bos := runs[1].Data.FirstToken; bos.Kind != "bos" || bos.Token != 2 {
		t.Errorf("first_token bos resolved to %+v, want the tokenizer's BOS id 2", bos)
	}
	if runs[2].Model.Layers != 2 || runs[2].Model.KVHeads != 2 || runs[2].Model.CheckpointSHA256 == r.Model.CheckpointSHA256 {
		t.Errorf("the second checkpoint's model: %+v", runs[2].Model)
	}
	if tune := exps[1].Runs[0]; tune.Train.Steps != 10 || tune.ID() == r.ID() {
		t.Errorf("fine-tuning run: steps %d, id %s (measure-only run %s)", tune.Train.Steps, tune.ID(), r.ID())
	}
}

// A checkpoint replaced on disk gives new run ids; the same files in
// another directory of the same name give the same ids.
func TestCheckpointFingerprint(t *testing.T) {
	src := "experiment e { model { checkpoint \"ck\" } }\n"
	id := func(dir string) string {
		exps, errs := compileIn(t, dir, src)
		if errs != "" {
			t.Fatal(errs)
		}
		return exps[0].Runs[0].ID()
	}
	d1, d2 := t.TempDir(), t.TempDir()
	makeCheckpoint(t, filepath.Join(d1, "ck"), "tiny-gpt2", 300, "F32")
	makeCheckpoint(t, filepath.Join(d2, "ck"), "tiny-gpt2", 300, "F32")
	first := id(d1)
	if again := id(d2); again != first {
		t.Errorf("the same checkpoint elsewhere: id %s, want %s", again, first)
	}
	makeCheckpoint(t, filepath.Join(d2, "ck"), "tiny-gpt2", 300, "F16")
	f16 := id(d2)
	if f16 == first {
		t.Errorf("a replaced checkpoint (F16 weights) kept the id %s", f16)
	}
	a := hf.Preset("tiny-gpt2")
	a.Vocab = 300
	if err := hf.Generate(filepath.Join(d2, "ck"), a, 1, "F16", 2); err != nil {
		t.Fatal(err)
	}
	if sharded := id(d2); sharded == f16 || sharded == first {
		t.Errorf("the checkpoint in 2 shards kept an id: %s", sharded)
	}
}

// Bad checkpoints and settings that conflict with one are errors at their
// positions, never panics.
func TestCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	makeCheckpoint(t, filepath.Join(dir, "gpt2"), "tiny-gpt2", 300, "F32")
	makeCheckpoint(t, filepath.Join(dir, "small_vocab"), "tiny-gpt2", 0, "F32")
	copyTokenizer(t, filepath.Join(dir, "small_vocab"))
	makeCheckpoint(t, filepath.Join(dir, "qwen"), "tiny-qwen2", 300, "F32")
	for _, name := range []string{"vocab.json", "merges.txt", "tokenizer_config.json"} {
		os.Remove(filepath.Join(dir, "qwen", name))
	}
	writeQwenTokenizer(t, filepath.Join(dir, "qwen"))
	makeCheckpoint(t, filepath.Join(dir, "no_tokenizer"), "tiny-gpt2", 0, "F32")
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	makeCheckpoint(t, filepath.Join(dir, "bert"), "tiny-gpt2", 300, "F32")
	cfg := filepath.Join(dir, "bert", "config.json")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), `"model_type": "gpt2"`, `"model_type": "bert"`, 1)), 0o644)
	makeCheckpoint(t, filepath.Join(dir, "truncated"), "tiny-gpt2", 300, "F32")
	st := filepath.Join(dir, "truncated", "model.safetensors")
	b, _ = os.ReadFile(st)
	os.WriteFile(st, b[:len(b)/2], 0o644)

	for _, tc := range []struct {
		name, src string
		want      []string // substrings of the errors, in order
	}{
		{"architecture key beside it", "experiment e {\n  model {\n    checkpoint \"gpt2\"\n    layers 3\n    ffn gelu(hidden: 64)\n  }\n}\n",
			[]string{`t.sink:4:12: model.layers comes from the checkpoint's config.json (model.checkpoint at t.sink:3:16); remove it`,
				`t.sink:5:9: model.ffn comes from the checkpoint's config.json`}},
		{"architecture key varied beside it in a grid", "experiment e {\n  model { checkpoint \"gpt2\" }\n  vary model.layers [2, 3]\n  vary data.holdout [0.1, 0.2]\n}\n",
			[]string{`t.sink:3:22: model.layers comes from the checkpoint's config.json`, `t.sink:3:25: model.layers comes from`}},
		{"varied architecture key", "experiment e {\n  model { checkpoint \"gpt2\" }\n  vary model.attention.z [one, sum]\n}\n",
			[]string{`t.sink:3:27: model.attention.z comes from the checkpoint's config.json`, `t.sink:3:32: model.attention.z comes from`}},
		{"missing directory", "experiment e { model { checkpoint \"gtp2\" } }\n",
			[]string{`t.sink:1:35: model.checkpoint: checkpoint `, `gtp2: no such file or directory (did you mean "gpt2"?)`}},
		{"no config.json", "experiment e { model { checkpoint \"empty\" } }\n",
			[]string{`t.sink:1:35: model.checkpoint: checkpoint `, `empty: no config.json`}},
		{"unsupported model_type", "experiment e { model { checkpoint \"bert\" } }\n",
			[]string{`t.sink:1:35: model.checkpoint: `, `bert`}},
		{"truncated safetensors", "experiment e { model { checkpoint \"truncated\" } }\n",
			[]string{`t.sink:1:35: model.checkpoint: `, `model.safetensors`}},
		{"no tokenizer", "experiment e { model { checkpoint \"no_tokenizer\" } }\n",
			[]string{`t.sink:1:35: model.checkpoint: the checkpoint's tokenizer: tokenizer: `, `holds neither tokenizer.json nor vocab.json and merges.txt`}},
		{"tokenizer larger than the vocabulary", "experiment e { model { checkpoint \"small_vocab\" } }\n",
			[]string{`t.sink:1:35: model.checkpoint: the checkpoint's tokenizer: tokenizer `, `its 261 token ids (0..260) do not fit the model's vocabulary of 96`}},
		{"explicit tokenizer larger than the vocabulary", "experiment e {\n  model { checkpoint \"small_vocab\" }\n  data {\n    tokenizer bpe(path: \"gpt2\")\n  }\n}\n",
			[]string{`t.sink:4:25: data.tokenizer: tokenizer `, `do not fit the model's vocabulary of 96`}},
		{"tokenizer path varied beside it", "experiment e {\n  model { checkpoint \"small_vocab\" }\n  vary data.tokenizer.path [\"gpt2\"]\n}\n",
			[]string{`t.sink:2:22: model.vocab (96) is smaller than the bytes tokenizer's vocabulary (256)`, `t.sink:3:29: data.tokenizer.path applies only when data.tokenizer is bpe, not bytes`}},
		{"probe longer than the positions", "experiment e {\n  model { checkpoint \"gpt2\" }\n  data { context 128 }\n  measure { probe_length 100 }\n}\n",
			[]string{`t.sink:4:26: measure.probe_length (100): gpt2 model takes at most 80 positions, sequences have 100 tokens`}},
		{"context longer than the positions", "experiment e {\n  model { checkpoint \"gpt2\" }\n  data { context 128 }\n}\n",
			[]string{`t.sink:3:18: data.context (128): gpt2 model takes at most 80 positions, sequences have 128 tokens`}},
		{"bos without a BOS", "experiment e {\n  model { checkpoint \"qwen\" }\n  data { first_token bos }\n}\n",
			[]string{`t.sink:3:22: data.first_token: bos: tokenizer `, `has no BOS token`}},
		{"bos of bytes", "experiment e {\n  data { first_token bos }\n}\n",
			[]string{`t.sink:2:22: data.first_token: bos is the tokenizer's BOS token, and the bytes tokenizer has none`}},
		{"bos with a token", "experiment e {\n  data { first_token bos(token: 3) }\n}\n",
			[]string{`t.sink:2:26: data.first_token: argument "token" does not apply to bos (only to fixed)`}},
		{"measure only without a checkpoint", "experiment e {\n  train { steps 0 }\n}\n",
			[]string{`t.sink:2:17: train.steps: 0 (measure only) needs a pretrained model, model { checkpoint "DIR" }`}},
		{"not a string", "experiment e { model { checkpoint gpt2 } }\n",
			[]string{`t.sink:1:35: model.checkpoint: expected a string in double quotes, found gpt2`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := compileIn(t, dir, tc.src)
			if got == "" {
				t.Fatalf("compiled; want errors %q", tc.want)
			}
			errors := 0
			for _, w := range tc.want {
				if strings.HasPrefix(w, "t.sink:") {
					errors++
				}
			}
			if n := strings.Count(got, "\n") + 1; n != errors {
				t.Errorf("%d errors, want %d:\n%s", n, errors, got)
			}
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("errors\n%s\nlack (in order) %q", got, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// writeQwenTokenizer puts the tokenizer package's Qwen2-layout fixture (no
// BOS token) in dir.
func writeQwenTokenizer(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join("..", "formats", "tokenizer", "testdata", "qwen2", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Hostile checkpoint paths end in an error at the setting, never a panic
// (which compile would report as an internal compiler error) or a read of
// a device.
func TestCheckpointHostilePaths(t *testing.T) {
	for _, path := range []string{"/dev/zero", "/proc/self", "/", ".", strings.Repeat("x/", 3000), "../../../../../../../../etc"} {
		_, err := Compile(map[string][]byte{"t.sink": []byte("experiment e { model { checkpoint " + strconv.Quote(path) + " } }\n")})
		if err == nil {
			t.Errorf("checkpoint %.40q compiled", path)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "t.sink:1:35: model.checkpoint: ") || strings.Contains(msg, "internal compiler error") {
			t.Errorf("checkpoint %.40q: %.300s", path, msg)
		}
	}
}

// A checkpoint path is relative to the file that sets it, even when an
// experiment in another directory inherits it; the run's path (and its
// tokenizer's) are rebased onto the run's own directory.
func TestCheckpointInherited(t *testing.T) {
	dir := t.TempDir()
	makeCheckpoint(t, filepath.Join(dir, "lib", "models", "gpt2"), "tiny-gpt2", 300, "F32")
	writeSink(t, filepath.Join(dir, "lib", "base.sink"), "experiment base { model { checkpoint \"models/gpt2\" } }\n")
	exps, errs := compileIn(t, filepath.Join(dir, "studies"), "import \"../lib/base.sink\"\nexperiment e extends base {}\n")
	if errs != "" {
		t.Fatal(errs)
	}
	r := exps[0].Runs[0]
	if want := "../lib/models/gpt2"; r.Model.Checkpoint != want || r.Data.Tokenizer.Path != want {
		t.Errorf("checkpoint %q, tokenizer %q; want both %q", r.Model.Checkpoint, r.Data.Tokenizer.Path, want)
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/compiler"
)

// hf-generate writes a checkpoint that compiles as a model with its own
// byte-level tokenizer (BOS 256), and plan shows it measure-only or
// fine-tuned with its size and forward FLOPs.
func TestHFGenerateAndPlan(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for _, preset := range []string{"tiny-gpt2", "tiny-llama"} {
		var o, e bytes.Buffer
		if code := dispatch(ctx, []string{"hf-generate", "--preset", preset, "--dtype", "BF16", filepath.Join(dir, preset)}, &o, &e); code != exitOK {
			t.Fatalf("hf-generate %s: exit %d: %s", preset, code, e.String())
		}
	}
	sink := filepath.Join(dir, "p.sink")
	os.WriteFile(sink, []byte(`experiment table1 {
  vary model.checkpoint ["tiny-gpt2", "tiny-llama"]
  data { first_token bos }
}
experiment tune {
  model { checkpoint "tiny-gpt2" }
  train { steps 20 }
}
`), 0o644)
	exps, err := compiler.CompileFiles([]string{sink})
	if err != nil {
		t.Fatal(compiler.FormatErrors(err, nil))
	}
	for _, r := range exps[0].Runs {
		if r.Model.Vocab != 257 || r.Data.Tokenizer.Vocab != 257 || r.Data.FirstToken.Token != 256 {
			t.Errorf("%s: model vocab %d, tokenizer %d ids, BOS %d; want 257, 257, 256",
				r.Model.Checkpoint, r.Model.Vocab, r.Data.Tokenizer.Vocab, r.Data.FirstToken.Token)
		}
	}
	var o, e bytes.Buffer
	if code := cmdPlan(ctx, []string{sink, "--out", filepath.Join(dir, "results")}, &o, &e); code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, e.String())
	}
	got := o.String()
	for _, want := range []string{
		"Pretrained checkpoints",
		"table1      1  tiny-gpt2   gpt2: 2 layers",
		"table1      2  tiny-llama  llama: 2 layers",
		"measure only",
		"tune        3  tiny-gpt2   gpt2: 2 layers",
		"fine-tune 20 steps",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plan output lacks %q:\n%s", want, got)
		}
	}
	var u, ue bytes.Buffer
	if code := dispatch(ctx, []string{"hf-generate", "--preset", "nope", filepath.Join(dir, "x")}, &u, &ue); code != exitUsage || !strings.Contains(ue.String(), `unknown architecture preset "nope"`) {
		t.Errorf("unknown preset: exit %d, %q", code, ue.String())
	}
}

func TestBytesText(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 6_230_000_000: "5.8 GiB"} {
		if got := bytesText(n); got != want {
			t.Errorf("bytesText(%d) = %q, want %q", n, got, want)
		}
	}
}

// The example of experiments/pretrained/ checks against the checkpoint that
// `make pretrained-example` generates (here in a temporary copy).
func TestPretrainedExample(t *testing.T) {
	files, _ := filepath.Glob("../../experiments/pretrained/*.sink")
	if len(files) == 0 {
		t.Fatal("no experiments/pretrained/*.sink")
	}
	dir := t.TempDir()
	var copies []string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := filepath.Join(dir, filepath.Base(f))
		os.WriteFile(c, src, 0o644)
		copies = append(copies, c)
	}
	var o, e bytes.Buffer
	if code := dispatch(context.Background(), []string{"hf-generate", "--preset", "tiny-gpt2", filepath.Join(dir, "checkpoints", "tiny-gpt2")}, &o, &e); code != exitOK {
		t.Fatalf("hf-generate: exit %d: %s", code, e.String())
	}
	if _, err := compiler.CompileFiles(copies); err != nil {
		t.Errorf("experiments/pretrained/ does not check:\n%s", compiler.FormatErrors(err, nil))
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyBench are model flags for a seconds-fast bench.
var tinyBench = []string{"--steps", "2", "--warmup", "1", "--vocab", "16", "--d-model", "16", "--layers", "1",
	"--heads", "2", "--ffn-hidden", "32", "--batch", "2", "--context", "8", "--backend", "go:parallelism=1"}

func TestBenchJSON(t *testing.T) {
	var out, errb bytes.Buffer
	code := cmdBench(context.Background(), append([]string{"--json"}, tinyBench...), &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line, got %q", out.String())
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ms_per_step", "tokens_per_s", "gflops", "backend", "params", "measure_ms", "measure_overhead_pct"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, lines[0])
		}
	}
	if !strings.HasPrefix(r["backend"].(string), "go:parallelism=1") || r["batch"].(float64) != 2 || r["context"].(float64) != 8 {
		t.Errorf("unexpected backend, batch or context: %s", lines[0])
	}
	if r["ms_per_step"].(float64) <= 0 || r["tokens_per_s"].(float64) <= 0 {
		t.Errorf("non-positive timing: %s", lines[0])
	}
}

func TestBenchText(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cmdBench(context.Background(), append([]string{"--measure=false"}, tinyBench...), &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"ms/step", "tokens/s", "GFLOP/s", "go:parallelism=1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBenchFile(t *testing.T) {
	src := `experiment b {
  model {
    layers 1
    heads 2
    d_model 16
  }
  data {
    corpus bigram_backcopy(vocab: 16, triggers: 2, successors: 2, trigger_rate: 0.1)
    context 8
  }
  train {
    batch 2
  }
  measure {
    probe_sequences 4
    probe_length 8
  }
  vary model.attention [softmax, sigmoid]
}
`
	path := filepath.Join(t.TempDir(), "b.sink")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := cmdBench(context.Background(), []string{path, "--run", "2", "--json", "--steps", "2", "--warmup", "1",
		"--backend", "go:parallelism=1"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r struct {
		Model   string `json:"model"`
		Batch   int    `json:"batch"`
		Context int    `json:"context"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Model, "run 2/2") || !strings.Contains(r.Model, "sigmoid") || r.Batch != 2 || r.Context != 8 {
		t.Errorf("bench of run 2: %+v", r)
	}
	if code := cmdBench(context.Background(), []string{path, "--run", "3"}, &out, &errb); code != exitUsage {
		t.Errorf("--run 3 of 2 runs: exit %d, want %d", code, exitUsage)
	}
}

func TestBenchMissingXLA(t *testing.T) {
	var out, errb bytes.Buffer
	code := cmdBench(context.Background(), append([]string{"--backend", "xla:cuda"}, tinyBench[:len(tinyBench)-2]...), &out, &errb)
	if code == exitOK && !strings.Contains(errb.String(), "xla") {
		return // built with the xla tag and a plugin present
	}
	if code != exitError || !strings.Contains(errb.String(), "xla") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

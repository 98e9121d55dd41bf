// Package hfref runs hfref.py, an independent PyTorch forward pass of
// Hugging Face checkpoints (gpt2, llama, mistral, qwen2, gpt_neox, opt)
// written from transformers' published model definitions without the
// transformers library, so tests can compare sinkrun's attention maps,
// hidden-state norms and Sink_1 with it. The script is embedded; it needs a
// python3 with torch and numpy (Debian python3-torch, python3-numpy).
package hfref

import (
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

//go:embed hfref.py
var script []byte

// Python returns the interpreter to run the reference with ($SINKRUN_PYTHON,
// else /usr/bin/python3), or an error when it cannot import torch and numpy.
func Python() (string, error) {
	py := "/usr/bin/python3"
	if p := os.Getenv("SINKRUN_PYTHON"); p != "" {
		py = p
	}
	if out, err := exec.Command(py, "-c", "import torch, numpy").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s cannot import torch and numpy (apt-get install python3-torch python3-numpy): %v: %s", py, err, strings.TrimSpace(string(out)))
	}
	return py, nil
}

// PythonForTest is Python for a test: it skips t when the reference cannot
// run here, and fails it instead when SINKRUN_TORCH=1 (CI), where the
// comparison is required.
func PythonForTest(t testing.TB) string {
	t.Helper()
	py, err := Python()
	if err != nil {
		if os.Getenv("SINKRUN_TORCH") == "1" {
			t.Fatalf("SINKRUN_TORCH=1: %v", err)
		}
		t.Skipf("%v; SINKRUN_TORCH=1 makes this test required", err)
	}
	return py
}

// Options of a reference run.
type Options struct {
	Eps     float64 // Sink_1 threshold; 0 means 0.3
	Float64 bool    // compute in float64 (maps are still written as float32)
	NoMaps  bool    // write only the norms and the summary
}

// Summary is the run's summary.json.
type Summary struct {
	Family    string      `json:"family"`
	Sequences int         `json:"sequences"`
	Tokens    int         `json:"tokens"`
	Layers    int         `json:"layers"`
	Heads     int         `json:"heads"`
	Eps       float64     `json:"eps"`
	Sink1Pct  float64     `json:"sink1_pct"` // Sink_1 in % (docs/metrics.md#sink)
	Alpha1    [][]float64 `json:"alpha1"`    // [layer][head], mean over sequences
	Massive   []float64   `json:"massive"`   // [layer+1]: first token's norm over the others' mean
	DType     string      `json:"dtype"`
}

// Result is a finished run: its output directory and summary.
type Result struct {
	Dir     string
	Summary Summary
}

// Run computes the reference forward pass of the checkpoint in ckpt on
// tokens ([sequence][position], equal lengths), writing into out (created).
func Run(python, ckpt string, tokens [][]int, out string, opt Options) (*Result, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	scriptPath := filepath.Join(out, "hfref.py")
	if err := os.WriteFile(scriptPath, script, 0o644); err != nil {
		return nil, err
	}
	js, err := json.Marshal(tokens)
	if err != nil {
		return nil, err
	}
	tokPath := filepath.Join(out, "tokens.json")
	if err := os.WriteFile(tokPath, js, 0o644); err != nil {
		return nil, err
	}
	eps := opt.Eps
	if eps == 0 {
		eps = 0.3
	}
	args := []string{scriptPath, "--ckpt", ckpt, "--tokens", tokPath, "--out", out, "--eps", strconv.FormatFloat(eps, 'g', -1, 64)}
	if opt.Float64 {
		args = append(args, "--float64")
	}
	if opt.NoMaps {
		args = append(args, "--no-maps")
	}
	if msg, err := exec.Command(python, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("hfref.py on %s: %v\n%s", ckpt, err, msg)
	}
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		return nil, err
	}
	r := &Result{Dir: out}
	if err := json.Unmarshal(raw, &r.Summary); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(out, "summary.json"), err)
	}
	return r, nil
}

// Maps reads layer l's attention maps [sequences, heads, T, T].
func (r *Result) Maps(l int) ([]int, []float32, error) {
	return ReadNpy(filepath.Join(r.Dir, fmt.Sprintf("attn_%02d.npy", l)))
}

// HiddenNorms reads the hidden-state norms [layers+1, sequences, T]: the
// embeddings', then each block's output (before the final norm).
func (r *Result) HiddenNorms() ([]int, []float32, error) {
	return ReadNpy(filepath.Join(r.Dir, "hidden_norms.npy"))
}

var npyShape = regexp.MustCompile(`'shape': \(([^)]*)\)`)

// ReadNpy reads a C-ordered little-endian float32 .npy file.
func ReadNpy(path string) ([]int, []float32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(raw) < 12 || string(raw[:6]) != "\x93NUMPY" {
		return nil, nil, fmt.Errorf("%s: not a .npy file", path)
	}
	hlen, at := int(binary.LittleEndian.Uint16(raw[8:])), 10
	if raw[6] >= 2 {
		hlen, at = int(binary.LittleEndian.Uint32(raw[8:])), 12
	}
	if at+hlen > len(raw) {
		return nil, nil, fmt.Errorf("%s: truncated header", path)
	}
	header := string(raw[at : at+hlen])
	if !strings.Contains(header, "'descr': '<f4'") || !strings.Contains(header, "'fortran_order': False") {
		return nil, nil, fmt.Errorf("%s: want C-ordered float32, header %s", path, header)
	}
	m := npyShape.FindStringSubmatch(header)
	if m == nil {
		return nil, nil, errors.New(path + ": no shape in header")
	}
	var shape []int
	count := 1
	for _, f := range strings.Split(m[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			d, err := strconv.Atoi(f)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: bad shape %q", path, m[1])
			}
			shape = append(shape, d)
			count *= d
		}
	}
	body := raw[at+hlen:]
	if len(body) != 4*count {
		return nil, nil, fmt.Errorf("%s: %d data bytes for shape %v", path, len(body), shape)
	}
	data := make([]float32, count)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return shape, data, nil
}

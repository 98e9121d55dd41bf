package hf

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadCheckpoints: every broken checkpoint is an error that names the
// file and what is wrong, never a panic.
func TestBadCheckpoints(t *testing.T) {
	tests := []struct {
		name   string
		preset string
		shards int
		break_ func(t *testing.T, dir string) string // returns the directory to open
		want   []string                              // substrings of the error
	}{
		{"missing directory", "tiny-gpt2", 1, func(t *testing.T, dir string) string { return filepath.Join(dir, "nope") },
			[]string{"nope", "no such file"}},
		{"missing config", "tiny-gpt2", 1, func(t *testing.T, dir string) string { rm(t, dir, ConfigFile); return dir },
			[]string{"no config.json"}},
		{"missing weights", "tiny-gpt2", 1, func(t *testing.T, dir string) string { rm(t, dir, WeightsFile); return dir },
			[]string{"no model.safetensors"}},
		{"truncated file", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			truncate(t, filepath.Join(dir, WeightsFile), 100)
			return dir
		}, []string{"model.safetensors", `"transformer.ln_f.bias"`, "truncated"}},
		{"truncated to 4 bytes", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, WeightsFile)
			st, _ := os.Stat(p)
			truncate(t, p, st.Size()-4)
			return dir
		}, []string{"model.safetensors", "shorter than the 8-byte"}},
		{"header length lies", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, WeightsFile)
			raw, _ := os.ReadFile(p)
			binary.LittleEndian.PutUint64(raw, uint64(len(raw)))
			os.WriteFile(p, raw, 0o644)
			return dir
		}, []string{"model.safetensors", "header length", "past the end of the file"}},
		{"header not JSON", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, WeightsFile)
			raw, _ := os.ReadFile(p)
			copy(raw[8:], "{\"x\": nul")
			os.WriteFile(p, raw, 0o644)
			return dir
		}, []string{"model.safetensors", "not valid JSON"}},
		{"offsets overlap", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			editHeader(t, filepath.Join(dir, WeightsFile), func(h map[string]any) {
				e := h["transformer.ln_f.weight"].(map[string]any)
				off := e["data_offsets"].([]any)
				e["data_offsets"] = []any{off[0].(float64) - 4, off[1].(float64) - 4}
			})
			return dir
		}, []string{"model.safetensors", "transformer.ln_f.weight", "overlap"}},
		{"shape lies about size", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			editHeader(t, filepath.Join(dir, WeightsFile), func(h map[string]any) {
				h["transformer.wpe.weight"].(map[string]any)["shape"] = []any{80, 33}
			})
			return dir
		}, []string{"model.safetensors", "transformer.wpe.weight", "[80, 33] needs 10560"}},
		{"unknown dtype", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			editHeader(t, filepath.Join(dir, WeightsFile), func(h map[string]any) {
				h["transformer.wpe.weight"].(map[string]any)["dtype"] = "Q4"
			})
			return dir
		}, []string{"model.safetensors", "transformer.wpe.weight", `unknown dtype "Q4"`}},
		{"integer dtype", "tiny-llama", 1, func(t *testing.T, dir string) string {
			editHeader(t, filepath.Join(dir, WeightsFile), func(h map[string]any) {
				h["model.norm.weight"].(map[string]any)["dtype"] = "I32"
			})
			return dir
		}, []string{"model.safetensors", "model.norm.weight", "dtype I32, want F32"}},
		{"unknown model_type", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["model_type"] = "bert" })
			return dir
		}, []string{"config.json", `"model_type"`, `"bert"`, "gpt2, llama, mistral, qwen2, gpt_neox, opt"}},
		{"config field of the wrong type", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["n_head"] = "4" })
			return dir
		}, []string{"config.json", `"n_head"`, "want a number"}},
		{"config field missing", "tiny-llama", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { delete(m, "intermediate_size") })
			return dir
		}, []string{"config.json", `"intermediate_size"`, "missing"}},
		{"unknown rope scaling", "tiny-llama", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4} })
			return dir
		}, []string{"config.json", `"rope_scaling.rope_type"`, `"yarn"`, "linear, llama3"}},
		{"llama3 scaling without its fields", "tiny-llama", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8} })
			return dir
		}, []string{"config.json", `"rope_scaling.low_freq_factor"`, "missing"}},
		{"OPT projection dims", "tiny-opt", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["word_embed_proj_dim"] = 16 })
			return dir
		}, []string{"config.json", `"word_embed_proj_dim"`, "OPT-350m"}},
		{"unsupported activation", "tiny-gpt_neox", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["hidden_act"] = "quick_gelu" })
			return dir
		}, []string{"config.json", `"hidden_act"`, "quick_gelu"}},
		{"odd rotary dims", "tiny-gpt_neox", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["rotary_pct"] = 0.375; delete(m, "partial_rotary_factor") })
			return dir
		}, []string{"config.json", `"rotary_pct"`, "3 rotary dimensions"}},
		{"partial rotary in a llama", "tiny-llama", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["partial_rotary_factor"] = 0.5 })
			return dir
		}, []string{"config.json", `"partial_rotary_factor"`, "not supported for llama"}},
		{"kv heads do not divide heads", "tiny-llama", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["num_key_value_heads"] = 3 })
			return dir
		}, []string{"config.json", "multiple of kv heads"}},
		{"wrong tensor shape", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["n_inner"] = 64 })
			return dir
		}, []string{"model.safetensors", `"transformer.h.0.mlp.c_fc.weight"`, "shape [32, 128], want [32, 64]"}},
		{"missing tensor", "tiny-llama", 1, func(t *testing.T, dir string) string {
			dropTensor(t, filepath.Join(dir, WeightsFile), "model.layers.1.mlp.up_proj.weight")
			return dir
		}, []string{"model.safetensors", `missing tensor "model.layers.1.mlp.up_proj.weight"`, "[64, 32]"}},
		{"untied model without lm_head", "tiny-gpt2", 1, func(t *testing.T, dir string) string {
			editConfig(t, dir, func(m map[string]any) { m["tie_word_embeddings"] = false })
			return dir
		}, []string{`missing tensor "lm_head.weight"`}},
		{"unexpected tensor", "tiny-qwen2", 1, func(t *testing.T, dir string) string {
			rewrite(t, filepath.Join(dir, WeightsFile), func(s string) string { return s },
				TensorInfo{Name: "model.layers.0.self_attn.o_proj.bias", DType: F32, Shape: []int{32}})
			return dir
		}, []string{"model.safetensors", `unexpected tensor "model.layers.0.self_attn.o_proj.bias"`}},
		{"missing shard", "tiny-llama", 3, func(t *testing.T, dir string) string {
			rm(t, dir, "model-00002-of-00003.safetensors")
			return dir
		}, []string{"model.safetensors.index.json", "model-00002-of-00003.safetensors is missing"}},
		{"index points to the wrong shard", "tiny-llama", 2, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, IndexFile)
			var idx map[string]any
			raw, _ := os.ReadFile(p)
			json.Unmarshal(raw, &idx)
			idx["weight_map"].(map[string]any)["lm_head.weight"] = "model-00001-of-00002.safetensors"
			raw, _ = json.Marshal(idx)
			os.WriteFile(p, raw, 0o644)
			return dir
		}, []string{"model.safetensors.index.json", `"lm_head.weight"`, "does not hold it"}},
		{"index escapes the directory", "tiny-llama", 2, func(t *testing.T, dir string) string {
			p := filepath.Join(dir, IndexFile)
			raw, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(raw), `"model-00001-of-00002.safetensors"`, `"../x.safetensors"`, 1)), 0o644)
			return dir
		}, []string{"model.safetensors.index.json", "must be a file name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Generate(dir, Preset(tc.preset), 1, "F32", tc.shards); err != nil {
				t.Fatal(err)
			}
			ck, err := Open(tc.break_(t, dir))
			if err == nil {
				ck.Close()
				t.Fatal("opened a broken checkpoint")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not mention %q", err, w)
				}
			}
		})
	}
}

// TestWriteRefusesInexpressible: an Arch a family cannot express is refused
// with the reason, before anything is written.
func TestWriteRefusesInexpressible(t *testing.T) {
	for _, tc := range []struct {
		preset string
		modify func(*Arch)
		want   string
	}{
		{"tiny-gpt2", func(a *Arch) { a.FFN.Gated = true }, "gpt2 cannot express this model: needs an ungated FFN"},
		{"tiny-gpt2", func(a *Arch) { a.KVHeads = 2 }, "needs as many kv heads as heads"},
		{"tiny-llama", func(a *Arch) { a.Norm.Kind = LayerNorm }, "needs pre-RMSNorm"},
		{"tiny-mistral", func(a *Arch) { a.Bias.QKV = true }, "needs no biases"},
		{"tiny-gpt_neox", func(a *Arch) { a.Position.RotaryDims = 3 }, "rotary dims must be even"},
		{"tiny-opt", func(a *Arch) { a.Position.Offset = 0 }, "offset 2"},
		{"tiny-llama", func(a *Arch) { a.Position.Scaling.Kind = "yarn" }, `unsupported rope_scaling kind "yarn"`},
	} {
		a := Preset(tc.preset)
		tc.modify(&a)
		dir := t.TempDir()
		err := Generate(dir, a, 1, "F32", 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.preset, err, tc.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: refused write left %d files", tc.preset, len(entries))
		}
	}
}

// TestCorruptHeadersNeverPanic flips random bytes in a header.
func TestCorruptHeadersNeverPanic(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir, Preset("tiny-gpt_neox"), 1, "BF16", 1); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, WeightsFile)
	orig, _ := os.ReadFile(p)
	hlen := int(binary.LittleEndian.Uint64(orig))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		raw := append([]byte(nil), orig...)
		for range 1 + rng.IntN(3) {
			raw[rng.IntN(8+hlen)] = byte(rng.IntN(256))
		}
		os.WriteFile(p, raw, 0o644)
		if ck, err := Open(dir); err == nil {
			for _, n := range ck.HFNames() {
				ck.ReadHF(n)
			}
			ck.Close()
		}
	}
}

func rm(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, cut int64) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()-cut); err != nil {
		t.Fatal(err)
	}
}

// editHeader rewrites a safetensors header as JSON, keeping the data.
func editHeader(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	var h map[string]any
	if err := json.Unmarshal(raw[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	js, _ := json.Marshal(h)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	out = append(append(out, js...), raw[8+n:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func editConfig(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, ConfigFile)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dropTensor rewrites a file without one tensor.
func dropTensor(t *testing.T, path, name string) {
	t.Helper()
	src, err := OpenSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	var infos []TensorInfo
	var data [][]float32
	for _, n := range src.Names() {
		if n == name {
			continue
		}
		tt, _ := src.Read(n)
		info, _ := src.Info(n)
		infos, data = append(infos, info), append(data, tt.Data)
	}
	src.Close()
	writeAll(t, path, infos, data)
}

// TestWriteSourceErrors: a source that fails or gives a wrong shape stops
// the write with the tensor named, and leaves no partial weight file.
func TestWriteSourceErrors(t *testing.T) {
	a := Preset("tiny-llama")
	good := RandomSource(a, 1)
	for _, tc := range []struct {
		name string
		src  Source
		want string
	}{
		{"failing source", func(n string) (Tensor, error) {
			if n == "layers.1.k.weight" {
				return Tensor{}, os.ErrPermission
			}
			return good(n)
		}, `tensor "model.layers.1.self_attn.k_proj.weight" from "layers.1.k.weight": permission denied`},
		{"wrong shape", func(n string) (Tensor, error) {
			x, err := good(n)
			if n == "layers.0.ffn.down.weight" {
				x.Shape = []int{32, 64}
			}
			return x, err
		}, `from "layers.0.ffn.down.weight": shape [32, 64] with 2048 values, want [64, 32]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := Write(dir, a, tc.src, WriteOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("failed write left %v", entries)
			}
		})
	}
}

func TestSafetensorsWriterMisuse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	infos := []TensorInfo{{Name: "a", DType: F32, Shape: []int{2}}, {Name: "b", DType: BF16, Shape: []int{3}}}
	for _, tc := range []struct {
		name string
		fill func(put PutFunc) error
		want string
	}{
		{"out of order", func(put PutFunc) error { return put("b", make([]float32, 3)) }, `"a" comes next`},
		{"wrong length", func(put PutFunc) error { return put("a", make([]float32, 3)) }, "shape [2] needs 2"},
		{"too few", func(put PutFunc) error { return put("a", []float32{1, 2}) }, `1 of 2 tensors written (next: "b")`},
		{"too many", func(put PutFunc) error {
			put("a", []float32{1, 2})
			put("b", []float32{1, 2, 3})
			return put("c", nil)
		}, "all 2 declared tensors are written"},
	} {
		err := WriteSafetensors(path, infos, nil, tc.fill)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: failed write left %v", tc.name, entries)
		}
	}
	if err := WriteSafetensors(path, []TensorInfo{{Name: "i", DType: "I32", Shape: []int{1}}}, nil, nil); err == nil {
		t.Error("wrote an integer tensor")
	}
	// a complete file reads back, metadata included
	err := WriteSafetensors(path, infos, map[string]string{"note": "test"}, func(put PutFunc) error {
		put("a", []float32{1, 2})
		return put("b", []float32{0.5, -3, 1e-3})
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := OpenSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := f.Read("b")
	if f.Metadata["format"] != "pt" || f.Metadata["note"] != "test" || b.Data[0] != 0.5 || b.Data[1] != -3 {
		t.Errorf("metadata %v, b %v", f.Metadata, b.Data)
	}
	raw, _ := os.ReadFile(path)
	if n := binary.LittleEndian.Uint64(raw); n%8 != 0 {
		t.Errorf("header of %d bytes is not 8-byte aligned", n)
	}
}

package hf

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var tinyPresets = []string{"tiny-gpt2", "tiny-llama", "tiny-mistral", "tiny-qwen2", "tiny-gpt_neox", "tiny-gpt_neox-seq", "tiny-opt", "tiny-opt-post"}

// TestConfigRoundTrip: the config.json sinkrun writes parses back into the
// same Arch, for every preset.
func TestConfigRoundTrip(t *testing.T) {
	for _, name := range PresetNames() {
		t.Run(name, func(t *testing.T) {
			a := Preset(name)
			a.DType = BF16
			js, err := ConfigJSON(a)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseConfig("config.json", js)
			if err != nil {
				t.Fatalf("%v\n%s", err, js)
			}
			if !reflect.DeepEqual(got, a) {
				t.Errorf("round trip changed the arch:\n got %+v\nwant %+v", got, a)
			}
		})
	}
}

// TestGenerateOpenRead writes every family in every dtype, sharded and not,
// and reads every canonical tensor back.
func TestGenerateOpenRead(t *testing.T) {
	for _, name := range tinyPresets {
		for _, c := range []struct {
			dtype  DType
			shards int
			tol    float64 // relative
		}{{F32, 1, 0}, {BF16, 3, 1.0 / 128}, {F16, 2, 1.0 / 1024}} {
			t.Run(name+"/"+string(c.dtype), func(t *testing.T) {
				a := Preset(name)
				dir := t.TempDir()
				if err := Generate(dir, a, 7, string(c.dtype), c.shards); err != nil {
					t.Fatal(err)
				}
				ck, err := Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer ck.Close()
				if len(ck.Files()) != c.shards {
					t.Errorf("%d files, want %d", len(ck.Files()), c.shards)
				}
				want := a
				want.DType = c.dtype
				if !reflect.DeepEqual(ck.Arch, want) {
					t.Errorf("arch %+v, want %+v", ck.Arch, want)
				}
				src := RandomSource(a, 7)
				for _, spec := range CanonicalTensors(a) {
					got, err := ck.Read(spec.Name)
					if err != nil {
						t.Fatal(err)
					}
					exp, _ := src(spec.Name)
					if !slices.Equal(got.Shape, spec.Shape) {
						t.Fatalf("%s: shape %v, want %v", spec.Name, got.Shape, spec.Shape)
					}
					for i := range exp.Data {
						if d := math.Abs(float64(got.Data[i] - exp.Data[i])); d > c.tol*math.Abs(float64(exp.Data[i]))+1e-7 {
							t.Fatalf("%s[%d] = %g, want %g", spec.Name, i, got.Data[i], exp.Data[i])
						}
					}
				}
				if ParamCount(a)*int64(c.dtype.Size()) != DiskBytes(a, c.dtype) || ck.DiskBytes() < DiskBytes(a, c.dtype) {
					t.Errorf("disk bytes %d, estimate %d", ck.DiskBytes(), DiskBytes(a, c.dtype))
				}
			})
		}
	}
}

// TestFusedLayouts pins the fused q/k/v layouts against hand-placed values:
// GPT-2's c_attn columns q|k|v, GPT-NeoX's query_key_value rows [H, 3, dh].
func TestFusedLayouts(t *testing.T) {
	for _, name := range []string{"tiny-gpt2", "tiny-gpt_neox"} {
		t.Run(name, func(t *testing.T) {
			a := Preset(name)
			dir := t.TempDir()
			if err := Generate(dir, a, 1, "F32", 1); err != nil {
				t.Fatal(err)
			}
			ck, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			d, dh := a.DModel, a.HeadDim
			q, _ := ck.Read("layers.1.q.weight")
			k, _ := ck.Read("layers.1.k.weight")
			v, _ := ck.Read("layers.1.v.weight")
			vb, _ := ck.Read("layers.1.v.bias")
			for _, c := range []struct{ in, head, j int }{{0, 0, 0}, {3, 1, 5}, {d - 1, a.Heads - 1, dh - 1}} {
				col := c.head*dh + c.j
				if name == "tiny-gpt2" {
					w, _ := ck.ReadHF("transformer.h.1.attn.c_attn.weight")
					b, _ := ck.ReadHF("transformer.h.1.attn.c_attn.bias")
					check(t, q.Data[c.in*d+col], w.Data[c.in*3*d+col])
					check(t, k.Data[c.in*d+col], w.Data[c.in*3*d+d+col])
					check(t, v.Data[c.in*d+col], w.Data[c.in*3*d+2*d+col])
					check(t, vb.Data[col], b.Data[2*d+col])
				} else {
					w, _ := ck.ReadHF("gpt_neox.layers.1.attention.query_key_value.weight")
					b, _ := ck.ReadHF("gpt_neox.layers.1.attention.query_key_value.bias")
					row := func(part int) int { return c.head*3*dh + part*dh + c.j }
					check(t, q.Data[c.in*d+col], w.Data[row(0)*d+c.in])
					check(t, k.Data[c.in*d+col], w.Data[row(1)*d+c.in])
					check(t, v.Data[c.in*d+col], w.Data[row(2)*d+c.in])
					check(t, vb.Data[col], b.Data[row(2)])
				}
			}
		})
	}
}

func check(t *testing.T, got, want float32) {
	t.Helper()
	if got != want {
		t.Errorf("got %g, want %g", got, want)
	}
}

// TestExpectedNames pins the tensor names of each family's checkpoint.
func TestExpectedNames(t *testing.T) {
	for name, want := range map[string][]string{
		"tiny-gpt2":     {"transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.bias", "transformer.h.1.attn.c_attn.weight", "transformer.h.1.mlp.c_proj.bias", "transformer.ln_f.weight", "lm_head.weight"},
		"tiny-llama":    {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.gate_proj.weight", "model.norm.weight", "lm_head.weight"},
		"tiny-qwen2":    {"model.layers.0.self_attn.k_proj.bias", "model.layers.0.self_attn.o_proj.weight"},
		"tiny-gpt_neox": {"gpt_neox.embed_in.weight", "gpt_neox.layers.0.attention.query_key_value.bias", "gpt_neox.layers.1.mlp.dense_4h_to_h.bias", "gpt_neox.final_layer_norm.bias", "embed_out.weight"},
		"tiny-opt":      {"model.decoder.embed_positions.weight", "model.decoder.layers.0.self_attn.out_proj.bias", "model.decoder.layers.0.fc1.weight", "model.decoder.final_layer_norm.weight"},
	} {
		specs, err := ExpectedTensors(Preset(name))
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, s := range specs {
			have[s.Name] = true
		}
		for _, w := range want {
			if !have[w] {
				t.Errorf("%s: no tensor %q among %d", name, w, len(specs))
			}
		}
	}
	specs, _ := ExpectedTensors(Preset("tiny-qwen2"))
	for _, s := range specs {
		if strings.HasSuffix(s.Name, "o_proj.bias") {
			t.Errorf("qwen2 has no o_proj bias, got %s", s.Name)
		}
	}
}

// TestPrefixVariants: base-model checkpoints (no causal-LM prefix) and
// allow-listed buffers are accepted.
func TestPrefixVariants(t *testing.T) {
	dir := t.TempDir()
	a := Preset("tiny-gpt2")
	if err := Generate(dir, a, 3, "F32", 1); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, WeightsFile)
	rewrite(t, path, func(name string) string { return strings.TrimPrefix(name, "transformer.") },
		TensorInfo{Name: "h.0.attn.bias", DType: F32, Shape: []int{1, 1, 4, 4}})
	ck, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if _, err := ck.Read("layers.0.q.weight"); err != nil {
		t.Fatal(err)
	}
}

// rewrite copies a safetensors file renaming its tensors and adding extra
// zero tensors.
func rewrite(t *testing.T, path string, rename func(string) string, extra ...TensorInfo) {
	t.Helper()
	src, err := OpenSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	var infos []TensorInfo
	var data [][]float32
	for _, n := range src.Names() {
		tt, err := src.Read(n)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := src.Info(n)
		info.Name = rename(n)
		infos = append(infos, info)
		data = append(data, tt.Data)
	}
	src.Close()
	for _, e := range extra {
		infos = append(infos, e)
		data = append(data, make([]float32, e.Elements()))
	}
	writeAll(t, path, infos, data)
}

func TestHalfConversions(t *testing.T) {
	for _, c := range []struct {
		f    float32
		half uint16
		bf   uint16
	}{
		{0, 0, 0}, {1, 0x3c00, 0x3f80}, {-2, 0xc000, 0xc000}, {65504, 0x7bff, 0x4780},
		{1e6, 0x7c00, 0x4974}, {5.960464477539063e-08, 0x0001, 0x3380}, {float32(math.Inf(-1)), 0xfc00, 0xff80},
		{1 + 1.0/2048, 0x3c00, 0x3f80}, // tie rounds to even
	} {
		if got := floatToHalf(c.f); got != c.half {
			t.Errorf("floatToHalf(%g) = %#04x, want %#04x", c.f, got, c.half)
		}
		if got := floatToBF16(c.f); got != c.bf {
			t.Errorf("floatToBF16(%g) = %#04x, want %#04x", c.f, got, c.bf)
		}
	}
	for h := range 0x7c00 { // every finite positive half round-trips
		if got := floatToHalf(halfToFloat(uint16(h))); got != uint16(h) {
			t.Fatalf("half %#04x -> %g -> %#04x", h, halfToFloat(uint16(h)), got)
		}
	}
	if v := halfToFloat(floatToHalf(float32(math.NaN()))); !math.IsNaN(float64(v)) {
		t.Errorf("NaN became %g", v)
	}
}

func TestInvFreqLlama3(t *testing.T) {
	p := Preset("tiny-llama").Position
	inv := p.InvFreq()
	// wavelengths 2*pi/inv: 6.3, 63, 628, 6283 against the band [32, 128]:
	// the first is kept, the last two are divided by 8, the second
	// interpolated.
	base := []float64{1, 0.1, 0.01, 0.001}
	if inv[0] != base[0] || math.Abs(inv[2]-base[2]/8) > 1e-12 || math.Abs(inv[3]-base[3]/8) > 1e-12 {
		t.Errorf("inv freq %v", inv)
	}
	if !(inv[1] < base[1] && inv[1] > base[1]/8) {
		t.Errorf("middle band not interpolated: %v", inv[1])
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeAll writes a safetensors file holding infos with data.
func writeAll(t *testing.T, path string, infos []TensorInfo, data [][]float32) {
	t.Helper()
	err := WriteSafetensors(path, infos, nil, func(put PutFunc) error {
		for i, info := range infos {
			if err := put(info.Name, data[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

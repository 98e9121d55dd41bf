package pretrained

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/formats/hf"
)

// Every preset family maps onto a valid sinkrun model whose parameters are
// filled, shape for shape, from the checkpoint; and exporting those
// parameters writes back the very same canonical tensors.
func TestRoundTripEveryPreset(t *testing.T) {
	for _, name := range hf.PresetNames() {
		if !strings.HasPrefix(name, "tiny-") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			a := hf.Preset(name)
			dir := filepath.Join(t.TempDir(), "ckpt")
			if err := hf.Generate(dir, a, 7, "F32", 1); err != nil {
				t.Fatal(err)
			}
			ck, err := hf.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			m, err := ModelFromArch(ck.Arch)
			if err != nil {
				t.Fatal(err)
			}
			if v := config.ValidateModel(m, config.Default().Train); len(v) > 0 {
				t.Fatalf("mapped model does not validate: %v", v.Err())
			}
			want := map[string][]int{}
			for _, p := range m.Params() {
				want[p.Path] = p.Dims
			}
			got := map[string][]float32{}
			if err := Params(ck, m, func(path string, v []float32) error {
				got[path] = v
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d parameters, the model has %d", len(got), len(want))
			}

			back, err := ArchFromModel(m, ck.Arch.MaxPositions)
			if err != nil {
				t.Fatalf("ArchFromModel: %v", err)
			}
			out := filepath.Join(t.TempDir(), "export")
			param := func(path string) ([]float32, error) {
				v, ok := got[path]
				if !ok {
					return nil, fmt.Errorf("no %s", path)
				}
				return v, nil
			}
			if err := hf.Write(out, back, Source(m, back, param), hf.WriteOptions{DType: hf.F32}); err != nil {
				t.Fatalf("export as %s: %v", back.Family, err)
			}
			ck2, err := hf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer ck2.Close()
			for _, s := range hf.CanonicalTensors(ck2.Arch) {
				x, err := ck2.Read(s.Name)
				if err != nil {
					t.Fatal(err)
				}
				if y, err := ck.Read(s.Name); err == nil {
					if !slices.Equal(x.Data, y.Data) {
						t.Errorf("%s: exported values differ from the original", s.Name)
					}
				} else if !allZero(x.Data) { // a bias the original lacked: zeros
					t.Errorf("%s: not in the original, exported non-zero", s.Name)
				}
			}
		})
	}
}

func allZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

func TestArchFromModelRefuses(t *testing.T) {
	m := config.Default().Model
	m.Vocab = 64
	m.Attention.Op = "sigmoid"
	m.Bias.Kind = "k"
	m.Position.Kind = "alibi"
	_, err := ArchFromModel(m, 64)
	if err == nil {
		t.Fatal("a sigmoid, key-bias, ALiBi model was exported")
	}
	for _, want := range []string{"attention sigmoid", "bias k", "position alibi"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestArchFromModelPicksFamily(t *testing.T) {
	llama := config.Default().Model
	llama.Vocab = 64
	qwen := llama
	qwen.LinearBias = "qkv"
	for _, c := range []struct {
		m    config.Model
		want hf.Family
	}{{llama, hf.Llama}, {qwen, hf.Qwen2}} {
		a, err := ArchFromModel(c.m, 64)
		if err != nil {
			t.Fatal(err)
		}
		if a.Family != c.want {
			t.Errorf("got family %s, want %s", a.Family, c.want)
		}
	}
}

package hf

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/sinkrun/sinkrun/internal/atomicfile"
)

// Source yields a canonical tensor by name (see CanonicalTensors).
type Source func(name string) (Tensor, error)

// WriteOptions chooses the stored dtype (default F32) and the number of
// shards (<= 1: one model.safetensors).
type WriteOptions struct {
	DType  DType
	Shards int
}

// Write stores a model as a Hugging Face checkpoint in dir: config.json and
// model.safetensors, or model-0000k-of-0000n.safetensors shards and
// model.safetensors.index.json. Tensors are pulled from src and written one
// at a time, so memory holds at most one checkpoint tensor and its
// canonical parts. Weight files of the other layout left in dir by an
// earlier write are removed, so the directory holds one checkpoint. An Arch
// its family cannot express is refused with the reason.
func Write(dir string, a Arch, src Source, opt WriteOptions) error {
	dt := opt.DType
	if dt == "" {
		dt = F32
	}
	if _, err := ParseDType(string(dt)); err != nil {
		return err
	}
	a.DType = dt
	cfg, err := ConfigJSON(a)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	l := layoutFor(a)
	var tensors []hfTensor
	for _, t := range l.tensors {
		if !t.Optional { // the tied lm_head is not stored
			tensors = append(tensors, t)
		}
	}
	shards := splitShards(tensors, dt, opt.Shards)
	if err := removeStaleWeights(dir, len(shards) > 1); err != nil {
		return err
	}
	weightMap := map[string]string{}
	var total int64
	for k, group := range shards {
		name := WeightsFile
		if len(shards) > 1 {
			name = fmt.Sprintf("model-%05d-of-%05d.safetensors", k+1, len(shards))
		}
		infos := make([]TensorInfo, len(group))
		for i, t := range group {
			full := l.fullName(l.prefixes[0], t.Name)
			infos[i] = TensorInfo{Name: full, DType: dt, Shape: t.Shape}
			weightMap[full] = name
			total += numElements(t.Shape) * int64(dt.Size())
		}
		if err := writeShard(filepath.Join(dir, name), group, infos, a, src); err != nil {
			return err
		}
	}
	if len(shards) > 1 {
		idx, err := json.MarshalIndent(map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": weightMap}, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, IndexFile), append(idx, '\n'), 0o644); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(filepath.Join(dir, ConfigFile), cfg, 0o644)
}

func writeShard(path string, group []hfTensor, infos []TensorInfo, a Arch, src Source) error {
	canonShapes := map[string][]int{}
	for _, s := range CanonicalTensors(a) {
		canonShapes[s.Name] = s.Shape
	}
	return WriteSafetensors(path, infos, nil, func(put PutFunc) error {
		for i, t := range group {
			parts := make([]Tensor, len(t.canon))
			for p, c := range t.canon {
				x, err := src(c)
				if err == nil && (!slices.Equal(x.Shape, canonShapes[c]) || int64(len(x.Data)) != numElements(canonShapes[c])) {
					err = fmt.Errorf("shape %s with %d values, want %s", shapeString(x.Shape), len(x.Data), shapeString(canonShapes[c]))
				}
				if err != nil {
					return fmt.Errorf("%s: tensor %q from %q: %w", path, infos[i].Name, c, err)
				}
				parts[p] = x
			}
			if err := put(infos[i].Name, fromCanonical(t, parts, a).Data); err != nil {
				return err
			}
		}
		return nil
	})
}

// splitShards cuts the tensors, in order, into at most n groups of about
// equal bytes.
func splitShards(tensors []hfTensor, dt DType, n int) [][]hfTensor {
	n = max(1, min(n, len(tensors)))
	var total int64
	for _, t := range tensors {
		total += numElements(t.Shape)
	}
	var out [][]hfTensor
	var cur []hfTensor
	var acc int64
	for i, t := range tensors {
		cur = append(cur, t)
		acc += numElements(t.Shape)
		shardsAfter, tensorsAfter := n-len(out)-1, len(tensors)-i-1
		// close the shard at its share of the bytes, or when each shard
		// still to come needs one of the remaining tensors
		if shardsAfter > 0 && (acc*int64(n) >= total*int64(len(out)+1) || tensorsAfter == shardsAfter) {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// removeStaleWeights deletes weight files of the layout not being written.
func removeStaleWeights(dir string, sharded bool) error {
	// Shards of an earlier write may have another count: always stale.
	stale, _ := filepath.Glob(filepath.Join(dir, "model-*-of-*.safetensors"))
	if sharded {
		stale = append(stale, filepath.Join(dir, WeightsFile))
	} else {
		stale = append(stale, filepath.Join(dir, IndexFile))
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// Generate writes a checkpoint of a with random weights: a test fixture for
// every family, and the way to try a model size without downloading one.
// Tensors are drawn one at a time from a generator seeded by (seed, name),
// so the weights do not depend on sharding or dtype, and a 1.5B-parameter
// model is written in bounded memory. Weights are scaled so that attention
// is far from uniform: matrices N(0, 1/in), token embeddings N(0, 1),
// position embeddings N(0, 0.5²), norm weights 1 + N(0, 0.1²),
// biases N(0, 0.1²). dtype: F32, F16 or BF16 (or float32, ...).
func Generate(dir string, a Arch, seed int64, dtype string, shards int) error {
	dt, err := ParseDType(dtype)
	if err != nil {
		return err
	}
	return Write(dir, a, RandomSource(a, seed), WriteOptions{DType: dt, Shards: shards})
}

// RandomSource draws the canonical tensors Generate writes.
func RandomSource(a Arch, seed int64) Source {
	shapes := map[string][]int{}
	for _, s := range CanonicalTensors(a) {
		shapes[s.Name] = s.Shape
	}
	return func(name string) (Tensor, error) {
		shape, ok := shapes[name]
		if !ok {
			return Tensor{}, fmt.Errorf("no canonical tensor %q", name)
		}
		h := fnv.New64a()
		h.Write([]byte(name))
		rng := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
		t := Tensor{Shape: slices.Clone(shape), Data: make([]float32, numElements(shape))}
		mean, std := 0.0, 0.1
		switch {
		case name == "tok_embed":
			std = 1
		case name == "pos_embed":
			std = 0.5
		case len(shape) == 2:
			std = 1 / math.Sqrt(float64(shape[0]))
		case isNormWeight(name):
			mean = 1
		}
		for i := range t.Data {
			t.Data[i] = float32(mean + std*rng.NormFloat64())
		}
		return t, nil
	}
}

func isNormWeight(name string) bool {
	for _, s := range []string{"attn_norm.weight", "ffn_norm.weight", "final_norm.weight"} {
		if len(name) >= len(s) && name[len(name)-len(s):] == s {
			return true
		}
	}
	return false
}

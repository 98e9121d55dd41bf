package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The weight files of a checkpoint directory: one file, or shards listed by
// an index.
const (
	WeightsFile = "model.safetensors"
	IndexFile   = "model.safetensors.index.json"
)

// maxReportedErrors bounds how many tensor problems one error lists.
const maxReportedErrors = 12

// Checkpoint is an opened Hugging Face model directory: its config parsed,
// every safetensors header validated and every tensor's name, dtype and shape
// checked against the architecture. No weights are read until asked for.
type Checkpoint struct {
	Dir    string
	Arch   Arch
	files  []*SafetensorsFile
	where  map[string]*SafetensorsFile // full tensor name -> its file
	layout *layout
	prefix string
	canon  map[string]canonRef
}

// canonRef locates a canonical tensor: layout tensor index and part.
type canonRef struct{ tensor, part int }

// Open reads dir's config.json and safetensors headers and validates the
// checkpoint. Every problem is an error naming the file and the tensor.
func Open(dir string) (*Checkpoint, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, unwrapPathErr(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("checkpoint %s: not a directory", dir)
	}
	a, err := ReadConfig(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("checkpoint %s: no %s", dir, ConfigFile)
		}
		return nil, err
	}
	ck := &Checkpoint{Dir: dir, Arch: a, layout: layoutFor(a), where: map[string]*SafetensorsFile{}}
	if err := ck.openWeights(); err != nil {
		ck.Close()
		return nil, err
	}
	if err := ck.validate(); err != nil {
		ck.Close()
		return nil, err
	}
	ck.canon = map[string]canonRef{}
	for i, t := range ck.layout.tensors {
		for p, c := range t.canon {
			ck.canon[c] = canonRef{i, p}
		}
	}
	return ck, nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openWeights opens model.safetensors, or the shards the index lists.
func (ck *Checkpoint) openWeights() error {
	index := filepath.Join(ck.Dir, IndexFile)
	if _, err := os.Stat(index); err == nil {
		return ck.openSharded(index)
	}
	single := filepath.Join(ck.Dir, WeightsFile)
	if _, err := os.Stat(single); err != nil {
		hint := ""
		if _, berr := os.Stat(filepath.Join(ck.Dir, "pytorch_model.bin")); berr == nil {
			hint = " (pytorch_model.bin is not read: save the model with safe_serialization=True)"
		}
		return fmt.Errorf("checkpoint %s: no %s or %s%s", ck.Dir, WeightsFile, IndexFile, hint)
	}
	f, err := OpenSafetensors(single)
	if err != nil {
		return err
	}
	ck.files = append(ck.files, f)
	for _, n := range f.Names() {
		ck.where[n] = f
	}
	return nil
}

func (ck *Checkpoint) openSharded(index string) error {
	data, err := os.ReadFile(index)
	if err != nil {
		return err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return fmt.Errorf("%s: not a safetensors index: %w", index, err)
	}
	if len(idx.WeightMap) == 0 {
		return fmt.Errorf("%s: field \"weight_map\" missing or empty", index)
	}
	byFile := map[string]*SafetensorsFile{}
	names := make([]string, 0, len(idx.WeightMap))
	for n := range idx.WeightMap {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		file := idx.WeightMap[name]
		if file == "" || file != filepath.Base(file) || strings.HasPrefix(file, ".") {
			return fmt.Errorf("%s: tensor %q: shard %q must be a file name in the checkpoint directory", index, name, file)
		}
		f, ok := byFile[file]
		if !ok {
			f, err = OpenSafetensors(filepath.Join(ck.Dir, file))
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("%s: tensor %q: shard %s is missing", index, name, file)
				}
				return err
			}
			byFile[file] = f
			ck.files = append(ck.files, f)
		}
		if _, ok := f.Info(name); !ok {
			return fmt.Errorf("%s: tensor %q: the index puts it in %s, which does not hold it", index, name, file)
		}
		ck.where[name] = f
	}
	// Every tensor of every shard must be in the index, once.
	for _, f := range ck.files {
		for _, n := range f.Names() {
			if ck.where[n] != f {
				return fmt.Errorf("%s: tensor %q is not in the index %s (or the index puts it in another shard)", f.Path, n, index)
			}
		}
	}
	return nil
}

// weightsName names the checkpoint's weights in errors about absent tensors.
func (ck *Checkpoint) weightsName() string {
	if len(ck.files) == 1 && filepath.Base(ck.files[0].Path) == WeightsFile {
		return ck.files[0].Path
	}
	return filepath.Join(ck.Dir, IndexFile)
}

// validate checks every expected tensor's presence, dtype and shape, and
// that every other tensor is an allow-listed buffer.
func (ck *Checkpoint) validate() error {
	l := ck.layout
	// The module prefix is the one under which most tensors are found.
	best := -1
	for _, p := range l.prefixes {
		n := 0
		for _, t := range l.tensors {
			if _, ok := ck.where[l.fullName(p, t.Name)]; ok {
				n++
			}
		}
		if n > best {
			best, ck.prefix = n, p
		}
	}
	var errs []error
	expected := map[string]bool{}
	for _, t := range l.tensors {
		full := l.fullName(ck.prefix, t.Name)
		expected[full] = true
		f, ok := ck.where[full]
		if !ok {
			if !t.Optional {
				errs = append(errs, fmt.Errorf("%s: missing tensor %q (shape %s) that %s needs", ck.weightsName(), full, shapeString(t.Shape), ck.Arch.Family))
			}
			continue
		}
		info, _ := f.Info(full)
		if !info.DType.IsFloat() {
			errs = append(errs, fmt.Errorf("%s: tensor %q: dtype %s, want F32, F16, BF16 or F64", f.Path, full, info.DType))
		}
		if !slices.Equal(info.Shape, t.Shape) {
			errs = append(errs, fmt.Errorf("%s: tensor %q: shape %s, want %s (from %s)", f.Path, full, shapeString(info.Shape), shapeString(t.Shape), ConfigFile))
		}
	}
	var extra []string
	for name := range ck.where {
		if !expected[name] && !l.ignore.MatchString(strings.TrimPrefix(name, ck.prefix)) {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		errs = append(errs, fmt.Errorf("%s: unexpected tensor %q: not part of a %s model as %s describes it", ck.where[name].Path, name, ck.Arch.Family, ConfigFile))
	}
	if len(errs) > maxReportedErrors {
		n := len(errs) - maxReportedErrors
		errs = append(errs[:maxReportedErrors], fmt.Errorf("... and %d more tensor problems", n))
	}
	return errors.Join(errs...)
}

// Close releases the weight files.
func (ck *Checkpoint) Close() error {
	var errs []error
	for _, f := range ck.files {
		errs = append(errs, f.Close())
	}
	ck.files = nil
	return errors.Join(errs...)
}

// Files lists the safetensors files read.
func (ck *Checkpoint) Files() []string {
	out := make([]string, len(ck.files))
	for i, f := range ck.files {
		out[i] = f.Path
	}
	return out
}

// DiskBytes is the size of the weight files.
func (ck *Checkpoint) DiskBytes() int64 {
	var n int64
	for _, f := range ck.files {
		if st, err := f.file.Stat(); err == nil {
			n += st.Size()
		}
	}
	return n
}

// HFNames lists the checkpoint's weight tensors under their full names.
func (ck *Checkpoint) HFNames() []string {
	var out []string
	for _, t := range ck.layout.tensors {
		full := ck.layout.fullName(ck.prefix, t.Name)
		if _, ok := ck.where[full]; ok {
			out = append(out, full)
		}
	}
	return out
}

// ReadHF reads a tensor by its name in the checkpoint, as float32.
func (ck *Checkpoint) ReadHF(name string) (Tensor, error) {
	f, ok := ck.where[name]
	if !ok {
		return Tensor{}, fmt.Errorf("checkpoint %s: no tensor %q", ck.Dir, name)
	}
	return f.Read(name)
}

// Read reads one canonical tensor (see CanonicalTensors and the package
// documentation for names and layout), converted from the checkpoint's
// layout. Fused projections are read whole and split.
func (ck *Checkpoint) Read(canonical string) (Tensor, error) {
	ref, ok := ck.canon[canonical]
	if !ok || (canonical == "lm_head.weight" && ck.Arch.TiedEmbeddings) {
		return Tensor{}, fmt.Errorf("checkpoint %s: no canonical tensor %q in a %s model", ck.Dir, canonical, ck.Arch.Family)
	}
	t := ck.layout.tensors[ref.tensor]
	data, err := ck.ReadHF(ck.layout.fullName(ck.prefix, t.Name))
	if err != nil {
		return Tensor{}, err
	}
	return toCanonical(t, ref.part, data, ck.Arch), nil
}

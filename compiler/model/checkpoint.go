package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	gmodel "github.com/gomlx/gomlx/ml/model"

	"github.com/sinkrun/sinkrun/internal/atomicfile"
)

// Checkpoint layout: <dir>/model.json (header) and <dir>/model.bin (every
// variable's float32 values, little-endian, in header order). Both are
// written to temporary names and renamed, the header last, so a crash never
// leaves a header pointing at a partial body.

const (
	ckptHeader  = "model.json"
	ckptBody    = "model.bin"
	ckptVersion = 1
)

type ckptVar struct {
	Path string `json:"path"`
	Dims []int  `json:"dims"`
}

type ckptMeta struct {
	Version   int       `json:"version"`
	AdamSteps int64     `json:"adam_steps"` // optimiser updates applied
	NumParams int64     `json:"num_params"`
	Variables []ckptVar `json:"variables"`
}

// allVariables lists parameters then AdamW moments, in a fixed order.
func (m *Model) allVariables() []*gmodel.Variable {
	vs := append([]*gmodel.Variable(nil), m.params...)
	vs = append(vs, m.m1...)
	return append(vs, m.m2...)
}

// Save writes all variables (parameters and optimiser state) and the
// optimiser step count to dir, creating it if needed.
func (m *Model) Save(dir string) (err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverInto(&err, "model.Save")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	meta := ckptMeta{Version: ckptVersion, AdamSteps: m.adamStep, NumParams: m.nParam}
	var body []byte
	for _, v := range m.allVariables() {
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("model.Save: %s: %w", v.Path(), err)
		}
		if t.DType() != dtypes.Float32 {
			return fmt.Errorf("model.Save: %s has dtype %s, want float32", v.Path(), t.DType())
		}
		meta.Variables = append(meta.Variables, ckptVar{Path: v.Path(), Dims: t.Shape().Dimensions})
		err = tensors.ConstFlatData[float32](t, func(flat []float32) {
			for _, x := range flat {
				body = binary.LittleEndian.AppendUint32(body, math.Float32bits(x))
			}
		})
		if err != nil {
			return err
		}
	}
	header, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ckptBody), body, 0o644); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, ckptHeader), header, 0o644)
}

// Load restores variables and the optimiser step count saved by Save on a
// model built with the same config.
func (m *Model) Load(dir string) (err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverInto(&err, "model.Load")
	header, err := os.ReadFile(filepath.Join(dir, ckptHeader))
	if err != nil {
		return err
	}
	var meta ckptMeta
	if err := json.Unmarshal(header, &meta); err != nil {
		return fmt.Errorf("model.Load: %s: %w", ckptHeader, err)
	}
	if meta.Version != ckptVersion {
		return fmt.Errorf("model.Load: checkpoint version %d, want %d", meta.Version, ckptVersion)
	}
	body, err := os.ReadFile(filepath.Join(dir, ckptBody))
	if err != nil {
		return err
	}
	vars := m.allVariables()
	if len(meta.Variables) != len(vars) {
		return fmt.Errorf("model.Load: checkpoint has %d variables, model has %d (different config?)", len(meta.Variables), len(vars))
	}
	// Check everything before changing anything.
	values := make([]*tensors.Tensor, len(vars))
	off := 0
	for i, v := range vars {
		cv := meta.Variables[i]
		shape := v.Shape()
		if cv.Path != v.Path() || !equalDims(cv.Dims, shape.Dimensions) {
			return fmt.Errorf("model.Load: checkpoint variable %s%v does not match model variable %s%v", cv.Path, cv.Dims, v.Path(), shape.Dimensions)
		}
		n := shape.Size()
		if off+4*n > len(body) {
			return fmt.Errorf("model.Load: %s is truncated", ckptBody)
		}
		flat := make([]float32, n)
		for j := range flat {
			flat[j] = math.Float32frombits(binary.LittleEndian.Uint32(body[off+4*j:]))
		}
		off += 4 * n
		values[i] = tensors.FromFlatDataAndDimensions(flat, shape.Dimensions...)
	}
	if off != len(body) {
		return fmt.Errorf("model.Load: %s has %d trailing bytes", ckptBody, len(body)-off)
	}
	for i, v := range vars {
		if err := v.SetValue(values[i]); err != nil {
			return err
		}
	}
	m.adamStep = meta.AdamSteps
	return nil
}

func equalDims(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

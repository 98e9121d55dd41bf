package trainer

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sinkrun/sinkrun/compiler/model"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/formats/hf"
	"github.com/sinkrun/sinkrun/formats/pretrained"
)

// newModel builds the run's model: freshly initialised from its seed, or,
// with model.checkpoint, from a Hugging Face checkpoint's weights (measure
// only when train.steps is 0, fine-tuned otherwise).
func (t *training) newModel() (*model.Model, error) {
	run := t.run
	if run.Model.Checkpoint == "" {
		return model.New(t.opts.Backend, run.Model, run.Train, run.Seed)
	}
	return loadCheckpoint(t.opts, run)
}

// CheckpointDir is where a run's model.checkpoint lies: relative paths are
// relative to the .sink file's directory, as corpus paths are.
func CheckpointDir(run config.Run) string {
	p := run.Model.Checkpoint
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(run.SourceDir, p)
}

// loadCheckpoint opens the checkpoint (validating every tensor's name, dtype
// and shape against its config.json before a weight is read), checks that its
// architecture is still the one the run was compiled with, and builds the
// model from its weights, one tensor in memory at a time.
func loadCheckpoint(opts Options, run config.Run) (*model.Model, error) {
	dir := CheckpointDir(run)
	ck, err := hf.Open(dir)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	want, err := pretrained.ModelFromArch(ck.Arch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if err := sameArchitecture(want, run.Model); err != nil {
		return nil, fmt.Errorf("%s changed since the run was compiled: %w (run sinkrun check again)", dir, err)
	}
	return model.NewWithWeights(opts.Backend, run.Model, run.Train, pretrained.Weights(ck, run.Model))
}

// sameArchitecture compares two models' resolved settings, the checkpoint's
// own (its path and fingerprint) aside.
func sameArchitecture(want, got config.Model) error {
	a, err := architectureJSON(want)
	if err != nil {
		return err
	}
	b, err := architectureJSON(got)
	if err != nil {
		return err
	}
	if a != b {
		return fmt.Errorf("its config.json now gives %s, the run has %s", a, b)
	}
	return nil
}

func architectureJSON(m config.Model) (string, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return "", err
	}
	for k := range fields {
		if strings.HasPrefix(k, "checkpoint") {
			delete(fields, k)
		}
	}
	out, err := json.Marshal(fields) // map keys sorted: a canonical form
	return string(out), err
}

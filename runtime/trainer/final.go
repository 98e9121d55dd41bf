package trainer

import (
	"fmt"
	"os"
)

// keepFinalWeights saves the model of a finished run to
// Options.FinalWeightsDir, for `sinkrun export`. The weights are written to
// <dir>.tmp and renamed into place, so the directory holds a complete save
// or none. A save that fails costs the export, not the results: it is
// reported and the run stays done.
func (t *training) keepFinalWeights() {
	dir := t.opts.FinalWeightsDir
	// A measured checkpoint (no training steps) is its own weights.
	if dir == "" || t.m == nil || t.run.Train.Steps == 0 {
		return
	}
	if err := saveWhole(dir, t.m.Save); err != nil {
		t.warn("keeping the final weights in %s failed: %v", dir, err)
	}
}

// saveWhole runs save on <dir>.tmp, then replaces dir with it.
func saveWhole(dir string, save func(string) error) error {
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := save(tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("saving the model: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

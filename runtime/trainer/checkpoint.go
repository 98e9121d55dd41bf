package trainer

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sinkrun/sinkrun/internal/atomicfile"
	"github.com/sinkrun/sinkrun/results/table"
)

// A checkpoint is a directory holding the model's variables and optimiser
// state (model.Save: parameters, both AdamW moments and the update count) and
// the run's bookkeeping (state.gob: the rows measured so far, timings and
// when the run started). It is written to <dir>.tmp and renamed into place
// (the previous one moved to <dir>.old first and removed last), so a crash at
// any moment leaves a complete checkpoint in <dir> or <dir>.old.
//
// Resuming from step s replays exactly what an uninterrupted run does from s
// on: the batch of each step is a pure function of (seed, step), the learning
// rate of (config, step), and every float the model holds is restored bit for
// bit. So a resumed run's metrics equal an uninterrupted run's on the same
// backend.
type checkpointState struct {
	RunID     string
	Step      int
	Metrics   []table.Metric
	Heads     []table.Head
	Maps      []table.Map
	TrainTime time.Duration // time inside train steps, all processes so far
	StepsRun  int
	Wall      time.Duration // wall time on the run, all processes so far
	// Final is the runs row so far; a resumed run keeps its StartedAt. (Its
	// final_* columns are computed from Metrics when the run ends.)
	Final table.Run
}

const stateFile = "state.gob"

// checkpoint saves the run at a step. A checkpoint that cannot be saved costs
// time on a resume, not results: it is reported and the run goes on.
func (t *training) checkpoint(step int) {
	if t.opts.CheckpointDir == "" || t.m == nil || step == 0 {
		return
	}
	t0 := time.Now()
	if err := t.saveCheckpoint(step); err != nil {
		t.warn("checkpoint at step %d failed: %v", step, err)
		return
	}
	t.ckpts++
	t.ckptTime += time.Since(t0)
	t.lastCkpt = time.Now()
}

func (t *training) saveCheckpoint(step int) error {
	dir := t.opts.CheckpointDir
	tmp, old := dir+".tmp", dir+".old"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := t.m.Save(filepath.Join(tmp, "model")); err != nil {
		return fmt.Errorf("saving the model: %w", err)
	}
	st := checkpointState{RunID: t.id, Step: step, Metrics: t.metrics, Heads: t.heads, Maps: t.maps,
		TrainTime: t.trainTime, StepsRun: t.stepsRun, Wall: t.wall(), Final: t.rec}
	if err := writeGob(filepath.Join(tmp, stateFile), &st); err != nil {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	atomicfile.SyncDir(filepath.Dir(dir)) // best effort: the swap is complete either way
	return os.RemoveAll(old)
}

// writeGob writes v to path, synced. (The file lands in the temporary
// checkpoint directory, which saveCheckpoint swaps in whole.)
func writeGob(path string, v any) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return gob.NewEncoder(w).Encode(v) })
}

// restore loads the run's checkpoint, if there is one, and returns the step
// to continue from (0 when there is none, or it belongs to another config).
// On error the model may be partly loaded and must be rebuilt; nothing else
// has changed.
func (t *training) restore() (int, error) {
	dir := t.opts.CheckpointDir
	st, err := readState(dir)
	if err != nil {
		// A crash between the two renames of saveCheckpoint leaves only the
		// .old copy; a damaged current copy also falls back to it.
		old := dir + ".old"
		if st2, err2 := readState(old); err2 == nil {
			st, err, dir = st2, nil, old
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if st.RunID != t.id || st.Step <= 0 || st.Step >= t.run.Train.Steps {
		return 0, nil // a stale checkpoint of another config: start afresh
	}
	if err := t.m.Load(filepath.Join(dir, "model")); err != nil {
		return 0, fmt.Errorf("loading the model: %w", err)
	}
	t.metrics, t.heads, t.trainTime, t.stepsRun = st.Metrics, st.Heads, st.TrainTime, st.StepsRun
	t.maps = st.Maps
	t.wallBefore = st.Wall
	t.rec.StartedAt = st.Final.StartedAt
	return st.Step, nil
}

func readState(dir string) (*checkpointState, error) {
	f, err := os.Open(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var st checkpointState
	if err := gob.NewDecoder(f).Decode(&st); err != nil {
		return nil, fmt.Errorf("reading %s: %w", stateFile, err)
	}
	return &st, nil
}

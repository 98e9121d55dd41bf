package trainer

import (
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sinkrun/sinkrun/results"
)

// A checkpoint is a directory holding the model's variables and optimiser
// state (model.Save) and the rows measured so far (state.gob). It is written
// beside the final location and renamed into place, so a crash while saving
// leaves the previous checkpoint intact.
type checkpointState struct {
	RunID     string
	Step      int
	Metrics   []results.Metric
	Heads     []results.Head
	TrainTime time.Duration
	StepsRun  int
	Final     results.Run // the final-metric fields measured so far
}

func (t *training) checkpoint(step int) {
	if t.opts.CheckpointDir == "" || t.m == nil || step == 0 {
		return
	}
	if err := t.saveCheckpoint(step); err != nil {
		// Losing a checkpoint costs time, not results: note it and go on.
		t.rec.Error = fmt.Sprintf("checkpoint at step %d failed: %v", step, err)
	}
}

func (t *training) saveCheckpoint(step int) error {
	dir := t.opts.CheckpointDir
	tmp := dir + ".tmp"
	old := dir + ".old"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := t.m.Save(filepath.Join(tmp, "model")); err != nil {
		return fmt.Errorf("saving the model: %w", err)
	}
	f, err := os.Create(filepath.Join(tmp, "state.gob"))
	if err != nil {
		return err
	}
	st := checkpointState{RunID: t.id, Step: step, Metrics: t.metrics, Heads: t.heads,
		TrainTime: t.trainTime, StepsRun: t.stepsRun, Final: t.rec}
	if err := gob.NewEncoder(f).Encode(&st); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	os.RemoveAll(old)
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// restore loads the run's checkpoint, if there is one, and returns the step
// to continue from.
func (t *training) restore() (int, bool, error) {
	dir := t.opts.CheckpointDir
	if _, err := os.Stat(filepath.Join(dir, "state.gob")); err != nil {
		// A crash between the two renames leaves only the .old copy.
		if _, err2 := os.Stat(filepath.Join(dir+".old", "state.gob")); err2 != nil {
			return 0, false, nil
		}
		dir += ".old"
	}
	f, err := os.Open(filepath.Join(dir, "state.gob"))
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	var st checkpointState
	if err := gob.NewDecoder(f).Decode(&st); err != nil {
		return 0, false, fmt.Errorf("reading state: %w", err)
	}
	if st.RunID != t.id {
		return 0, false, nil // a stale checkpoint of another config: start afresh
	}
	if err := t.m.Load(filepath.Join(dir, "model")); err != nil {
		return 0, false, fmt.Errorf("loading the model: %w", err)
	}
	t.metrics, t.heads, t.trainTime, t.stepsRun = st.Metrics, st.Heads, st.TrainTime, st.StepsRun
	t.rec.FinalValLoss, t.rec.FinalSink1, t.rec.Sink1Proxy = st.Final.FinalValLoss, st.Final.FinalSink1, st.Final.Sink1Proxy
	t.rec.FinalMeanAlpha1, t.rec.FinalMassive = st.Final.FinalMeanAlpha1, st.Final.FinalMassive
	t.rec.StartedAt = st.Final.StartedAt
	return st.Step, true, nil
}

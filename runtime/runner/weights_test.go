package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/runtime/runner/runnertest"
	"github.com/sinkrun/sinkrun/runtime/trainer"
)

// TestKeepWeights: with KeepWeights every finished run leaves its final
// model under WeightsDir, and a run interrupted and resumed leaves the very
// bytes an uninterrupted run does; without it no weights are written.
func TestKeepWeights(t *testing.T) {
	one := strings.NewReplacer("seeds [1, 2]", "seeds [1]", "steps 30", "steps 150",
		"vary train.optimizer.lr [1e-3, 3e-3]", "").Replace(grid)
	exps := compileSrc(t, one)
	r := exps[0].Runs[0]

	plain := t.TempDir()
	if o, _, err := run(t, exps, Options{Out: plain, Jobs: 1}); err != nil || o.Done != 1 {
		t.Fatalf("batch without KeepWeights: %v %+v", err, o)
	}
	if _, err := os.Stat(filepath.Join(plain, "weights")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a batch without KeepWeights wrote weights: %v", err)
	}

	ref := t.TempDir()
	if o, _, err := run(t, exps, Options{Out: ref, Jobs: 1, KeepWeights: true}); err != nil || o.Done != 1 {
		t.Fatalf("reference: %v %+v", err, o)
	}
	want := readKept(t, WeightsDir(ref, r))

	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	log := &watchLog{onLine: func(line string) {
		if strings.Contains(line, "training run-") {
			go func() {
				for !hasCheckpoint(out) {
					time.Sleep(2 * time.Millisecond)
				}
				cancel()
			}()
		}
	}}
	o, err := Run(ctx, exps, Options{Out: out, Jobs: 1, CheckpointEvery: 15, Log: log, Progress: "lines", KeepWeights: true})
	if !errors.Is(err, trainer.ErrInterrupted) || o.Interrupted != 1 {
		t.Fatalf("interrupted batch: %v %+v\n%s", err, o, log)
	}
	if _, err := os.Stat(WeightsDir(out, r)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an interrupted run kept weights: %v", err)
	}
	o, text, err := run(t, exps, Options{Out: out, Jobs: 1, CheckpointEvery: 15, KeepWeights: true})
	if err != nil || o.Done != 1 || !strings.Contains(text, ", resumed at step") {
		t.Fatalf("resumed batch: %v %+v\n%s", err, o, text)
	}
	if got := readKept(t, WeightsDir(out, r)); !bytes.Equal(got, want) {
		t.Errorf("the resumed run kept other weights (%d bytes) than an uninterrupted one (%d bytes)", len(got), len(want))
	}
	runnertest.AssertClean(t, out)
}

// readKept reads the body of kept weights (model.Save's model.bin).
func readKept(t *testing.T, dir string) []byte {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "model.json")); err != nil {
		t.Fatalf("no kept weights: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

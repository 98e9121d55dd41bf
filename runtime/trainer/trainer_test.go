package trainer

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/backend"
	"github.com/sinkrun/sinkrun/runtime/data"
)

// tiny is a run small enough to train in a fraction of a second: 40 steps,
// measured every 10, on a synthetic corpus that is generated, not read.
const tiny = `experiment tiny {
  model { layers 1; heads 2; d_model 16 }
  data { corpus bigram_backcopy(vocab: 16, triggers: 2); context 16 }
  train { steps 40; batch 4; schedule cosine(warmup: 5, min_lr: 0.1) }
  measure { every 10; probe_sequences 8; probe_length 16; val_batches 2; sink [1, 2] }
}`

func compileRun(t *testing.T, src string) config.Run {
	t.Helper()
	exps, err := compiler.Compile(map[string][]byte{"t.sink": []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	return exps[0].Runs[0]
}

func setup(t *testing.T, src string) (config.Run, *data.Dataset, Options) {
	t.Helper()
	run := compileRun(t, src)
	ds, err := data.Load(run.Data, "")
	if err != nil {
		t.Fatal(err)
	}
	be, err := backend.Open("go:parallelism=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Finalize)
	return run, ds, Options{Backend: be, BackendName: "go:parallelism=1"}
}

// interruptAt returns options whose run is cancelled after step n (the
// trainer notices before the next step and checkpoints there).
func interruptAt(opts Options, n int) (context.Context, Options) {
	ctx, cancel := context.WithCancel(context.Background())
	opts.Progress = func(p Progress) {
		if p.Step == n {
			cancel()
		}
	}
	return ctx, opts
}

// sameResults compares everything a run records except timings.
func sameResults(t *testing.T, got, want Result) {
	t.Helper()
	if !reflect.DeepEqual(bitsOf(got.Metrics), bitsOf(want.Metrics)) {
		t.Errorf("metrics differ:\n got %d rows %v\nwant %d rows %v", len(got.Metrics), head(got.Metrics), len(want.Metrics), head(want.Metrics))
	}
	if !reflect.DeepEqual(got.Heads, want.Heads) {
		t.Errorf("heads differ: got %d rows, want %d", len(got.Heads), len(want.Heads))
	}
	if !reflect.DeepEqual(got.Maps, want.Maps) {
		t.Errorf("maps differ: got %d rows, want %d", len(got.Maps), len(want.Maps))
	}
	g, w := got.Run, want.Run
	for _, f := range config.FinalColumns() {
		gv, wv := g.Final(f.Name), w.Final(f.Name)
		if math.Float64bits(gv.Value) != math.Float64bits(wv.Value) || gv.Proxy != wv.Proxy {
			t.Errorf("%s = %+v, want %+v", f.Name, gv, wv)
		}
	}
	if g.Status != w.Status || g.Steps != w.Steps || g.TokensSeen != w.TokensSeen || g.Params != w.Params || g.Error != w.Error {
		t.Errorf("run row differs: got %s %d steps %d tokens %q, want %s %d steps %d tokens %q",
			g.Status, g.Steps, g.TokensSeen, g.Error, w.Status, w.Steps, w.TokensSeen, w.Error)
	}
}

// bitsOf makes metrics comparable with NaN (eps of rows without one).
func bitsOf(ms []table.Metric) []table.Metric {
	out := append([]table.Metric(nil), ms...)
	for i := range out {
		if math.IsNaN(out[i].Eps) {
			out[i].Eps = -1
		}
	}
	return out
}

func head(ms []table.Metric) []table.Metric { return ms[:min(3, len(ms))] }

// TestResumeEqualsUninterrupted interrupts a run between checkpoints and
// between measurements, resumes it in a new Train call, and checks that it
// records exactly what an uninterrupted run records, bit for bit.
func TestResumeEqualsUninterrupted(t *testing.T) {
	for name, src := range map[string]string{
		"softmax":           tiny,
		"sigmoid_layernorm": strings.Replace(tiny, "d_model 16", "d_model 16; attention sigmoid; norm layernorm(placement: post)", 1),
	} {
		t.Run(name, func(t *testing.T) { testResume(t, src) })
	}
}

func testResume(t *testing.T, src string) {
	run, ds, opts := setup(t, src)
	want, err := Train(context.Background(), run, ds, opts)
	if err != nil || want.Run.Status != table.StatusDone {
		t.Fatalf("uninterrupted: %v %s %s", err, want.Run.Status, want.Run.Error)
	}
	checkMaps(t, want.Maps, run.Train.Steps)

	dir := filepath.Join(t.TempDir(), "ckpt")
	opts.CheckpointDir, opts.CheckpointEvery = dir, 7
	ctx, o := interruptAt(opts, 17)
	first, err := Train(ctx, run, ds, o)
	if err != ErrInterrupted || first.Stopped != 17 {
		t.Fatalf("first part: err %v, stopped at %d; want ErrInterrupted at 17", err, first.Stopped)
	}
	if first.Checkpoints != 3 { // steps 7, 14 and the interrupt at 17
		t.Errorf("first part saved %d checkpoints, want 3", first.Checkpoints)
	}
	var walls []time.Duration
	wall := func() {
		st, err := readState(dir)
		if err != nil {
			t.Fatal(err)
		}
		walls = append(walls, st.Wall)
	}
	wall()
	// A second interruption of the resumed run, then the rest.
	ctx, o = interruptAt(opts, 33)
	second, err := Train(ctx, run, ds, o)
	if err != ErrInterrupted || second.Resumed != 17 || second.Stopped != 33 {
		t.Fatalf("second part: err %v, resumed at %d, stopped at %d; want ErrInterrupted, 17, 33", err, second.Resumed, second.Stopped)
	}
	wall()
	got, err := Train(context.Background(), run, ds, opts)
	if err != nil || got.Resumed != 33 {
		t.Fatalf("last part: err %v, resumed at %d, want 33", err, got.Resumed)
	}
	sameResults(t, got, want)
	if !got.Run.StartedAt.Equal(first.Run.StartedAt) {
		t.Errorf("started_at = %v, want the first part's %v", got.Run.StartedAt, first.Run.StartedAt)
	}
	// Wall time carries over from part to part through the checkpoints.
	if w1, w2 := walls[0].Seconds(), walls[1].Seconds(); !(w1 > 0 && w2 > w1 && got.Run.WallSeconds > w2) {
		t.Errorf("wall times %v s, %v s at the interrupts, %v s at the end: want them growing", w1, w2, got.Run.WallSeconds)
	}
	if got.Run.MsPerStep <= 0 {
		t.Errorf("ms_per_step = %v", got.Run.MsPerStep)
	}
}

// TestResumeFallbacks: a crash between the renames of a checkpoint save
// leaves only <dir>.old, which is used; a damaged checkpoint is reported and
// the run starts afresh; either way the results equal an uninterrupted run's.
func TestResumeFallbacks(t *testing.T) {
	run, ds, opts := setup(t, tiny)
	want, err := Train(context.Background(), run, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		damage  func(dir string) error
		resumed int
		warn    string
	}{
		{"old copy only", func(dir string) error { return os.Rename(dir, dir+".old") }, 15, ""},
		{"damaged state", func(dir string) error { return os.WriteFile(filepath.Join(dir, stateFile), []byte("junk"), 0o644) }, 0, "starting afresh"},
		{"damaged model", func(dir string) error { return os.Truncate(filepath.Join(dir, "model", "model.bin"), 10) }, 0, "starting afresh"},
		{"other config", func(dir string) error {
			st, err := readState(dir)
			if err != nil {
				return err
			}
			st.RunID = "0123456789abcdef"
			return writeGob(filepath.Join(dir, stateFile), st)
		}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			o.CheckpointDir = filepath.Join(t.TempDir(), "ckpt")
			ctx, oi := interruptAt(o, 15)
			if _, err := Train(ctx, run, ds, oi); err != ErrInterrupted {
				t.Fatalf("first part: %v", err)
			}
			if err := tc.damage(o.CheckpointDir); err != nil {
				t.Fatal(err)
			}
			var warnings []string
			o.Warn = func(s string) { warnings = append(warnings, s) }
			got, err := Train(context.Background(), run, ds, o)
			if err != nil {
				t.Fatal(err)
			}
			if got.Resumed != tc.resumed {
				t.Errorf("resumed at %d, want %d", got.Resumed, tc.resumed)
			}
			if w := strings.Join(warnings, "\n"); tc.warn == "" && w != "" || !strings.Contains(w, tc.warn) {
				t.Errorf("warnings %q, want %q", w, tc.warn)
			}
			sameResults(t, got, want)
		})
	}
}

// TestDiverged: AdamW with eps 0 divides 0 by 0 for the embedding rows of
// tokens a batch does not contain, so the loss becomes NaN.
func TestDiverged(t *testing.T) {
	src := strings.Replace(tiny, "batch 4;", "batch 4; optimizer adamw(eps: 0);", 1)
	src = strings.Replace(src, "vocab: 16", "vocab: 64", 1)
	run, ds, opts := setup(t, src)
	res, err := Train(context.Background(), run, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Run
	if r.Status != table.StatusDiverged || r.DivergedStep < 1 || r.DivergedStep > 40 || !strings.Contains(r.Error, "NaN") {
		t.Fatalf("status %s, diverged step %d, error %q; want diverged with a NaN loss", r.Status, r.DivergedStep, r.Error)
	}
	if r.Steps != r.DivergedStep {
		t.Errorf("steps = %d, want the diverged step %d", r.Steps, r.DivergedStep)
	}
	t.Logf("%s", r.Error)
}

// TestPanicRecorded: a panic inside a run (GoMLX reports errors by panic)
// is recorded as a failure with its message, not a crash.
func TestPanicRecorded(t *testing.T) {
	run, ds, opts := setup(t, tiny)
	opts.Progress = func(p Progress) {
		if p.Step == 3 {
			panic("injected failure")
		}
	}
	res, err := Train(context.Background(), run, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Status != table.StatusFailed || !strings.Contains(res.Run.Error, "panic: injected failure") {
		t.Fatalf("status %s, error %q; want failed with the panic's message", res.Run.Status, res.Run.Error)
	}
}

// checkMaps checks the final attention map of probe sequence 0 of tiny
// (1 layer, 2 heads, 16 tokens, causal, no slot): every visible (query, key)
// pair once, at the last step.
func checkMaps(t *testing.T, maps []table.Map, steps int) {
	t.Helper()
	if want := 2 * 16 * 17 / 2; len(maps) != want {
		t.Fatalf("maps: %d rows, want %d", len(maps), want)
	}
	for _, m := range maps {
		if m.Step != int64(steps) || m.Layer != 0 || m.Head < 0 || m.Head > 1 || m.Key < 0 || m.Key > m.Query {
			t.Fatalf("bad maps row %+v", m)
		}
	}
}

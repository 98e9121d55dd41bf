package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/test/external"
)

// The commands that read a results directory, on one synthetic directory
// (writing it takes seconds).
func TestResultsCommands(t *testing.T) {
	dir := t.TempDir()
	rs, err := external.WriteSynthetic(dir)
	if err != nil {
		t.Fatal(err)
	}
	runs := external.Runs(rs)
	values := synthValues(rs)
	// summarize re-reads the Parquet files and prints exactly the table
	// that `sinkrun run` prints from the runs in memory, in every format.
	t.Run("summarize matches the run's summary", func(t *testing.T) {
		for _, format := range []string{"table", "markdown", "csv"} {
			t.Run(format, func(t *testing.T) {
				f, _ := results.ParseFormat(format)
				var want bytes.Buffer
				if err := results.WriteSummaryOf(&want, runs, values, f); err != nil {
					t.Fatal(err)
				}
				// Every measured position: the runs measure sink [1, 2].
				if sink2 := map[string]string{"table": "Sink_2 % (eps 0.3)", "markdown": "| Sink_2 % (eps 0.3) |", "csv": "sink2_mean,sink2_sd,sink2_is_proxy"}[format]; !strings.Contains(want.String(), sink2) {
					t.Errorf("the summary has no %q:\n%s", sink2, want.String())
				}
				var stdout, stderr bytes.Buffer
				if code := cmdSummarize(context.Background(), []string{dir, "--format", format}, &stdout, &stderr); code != exitOK {
					t.Fatalf("exit %d: %s", code, stderr.String())
				}
				if stdout.String() != want.String() {
					t.Errorf("summarize output differs from the run's summary\n got:\n%s\nwant:\n%s", stdout.String(), want.String())
				}
			})
		}
	})
	t.Run("summarize errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			msg  string
		}{
			{nil, exitUsage, "Usage: sinkrun summarize"},
			{[]string{dir, "--format", "html"}, exitUsage, "unknown summary format"},
			{[]string{filepath.Join(dir, "missing")}, exitError, "no such file"},
			{[]string{t.TempDir()}, exitError, "no runs in"},
			{[]string{dir, "--experiment", "nosuch"}, exitError, `no runs of experiment "nosuch"`},
		} {
			var stdout, stderr bytes.Buffer
			code := cmdSummarize(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("summarize %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr.String(), tc.code, tc.msg)
			}
		}
		var stdout, stderr bytes.Buffer
		if code := cmdSummarize(context.Background(), []string{dir, "--experiment", "attention", "--format", "csv"}, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if strings.Contains(stdout.String(), "positional") || !strings.Contains(stdout.String(), "attention,softmax") {
			t.Errorf("--experiment attention:\n%s", stdout.String())
		}
	})
	t.Run("plot", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := cmdPlot(context.Background(), []string{dir, "--format", "png", "--experiment", "attention"}, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		for _, f := range []string{"emergence_sink1.png", "emergence_alpha1.png", "emergence_strongest.png", "val_loss.png", "massive.png", "heads/alpha1_attention=softmax_seed1.png",
			"maps/attention_attention=softmax_seed1_L1H0.png"} {
			p := filepath.Join(dir, "plots", "attention", f)
			if st, err := os.Stat(p); err != nil || st.Size() == 0 {
				t.Errorf("%s: %v", p, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "plots", "positional")); err == nil {
			t.Error("--experiment attention also drew positional")
		}
		// 5 line figures, Sink* and Sink_2, 3 heat maps (runs with heads), 2 attention maps (runs with maps).
		if !strings.Contains(stdout.String(), "12 figures (png) in "+filepath.Join(dir, "plots")) {
			t.Errorf("stdout %q", stdout.String())
		}
		for _, tc := range []struct {
			args []string
			code int
		}{
			{nil, exitUsage},
			{[]string{dir, "--format", "pdf"}, exitUsage},
			{[]string{filepath.Join(dir, "missing")}, exitError},
			{[]string{t.TempDir()}, exitError},
		} {
			stdout.Reset()
			stderr.Reset()
			if code := cmdPlot(context.Background(), tc.args, &stdout, &stderr); code != tc.code {
				t.Errorf("plot %v: exit %d, want %d (%s)", tc.args, code, tc.code, stderr.String())
			}
		}
	})
}

// Runs that start out of grid order as `sinkrun run -j 2` starts them
// (neighbours swapped), or later because a batch was interrupted and
// resumed, still summarise in grid order.
func TestSummarizeGridOrder(t *testing.T) {
	dir := t.TempDir()
	rs := external.Synthetic()
	var want bytes.Buffer
	if err := results.WriteSummaryOf(&want, external.Runs(rs), synthValues(rs), results.Markdown); err != nil {
		t.Fatal(err)
	}
	order := make([]int, len(rs)) // start order -> grid index
	for i := range order {
		order[i] = i
	}
	// Two jobs: runs 1 and 2 (crossing a grid cell), and 5 and 6, start
	// the other way round.
	order[1], order[2] = order[2], order[1]
	order[5], order[6] = order[6], order[5]
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for pos, i := range order {
		r := rs[i]
		r.Run.StartedAt = base.Add(time.Duration(pos) * time.Second)
		if pos >= 7 { // interrupted here, resumed an hour later
			r.Run.StartedAt = r.Run.StartedAt.Add(time.Hour)
		}
		if err := table.Write(dir, r.Run, r.Metrics, r.Heads); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := cmdSummarize(context.Background(), []string{"--format=markdown", dir}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.String() != want.String() {
		t.Errorf("summary not in grid order\n got:\n%s\nwant:\n%s", stdout.String(), want.String())
	}
}

// synthValues are the synthetic runs' metric values, by run id.
func synthValues(rs []external.SynthRun) map[string][]config.StepValue {
	out := map[string][]config.StepValue{}
	for _, r := range rs {
		out[r.Run.ID] = table.Values(r.Metrics)
	}
	return out
}

// Package table writes and reads the Parquet tables of sinkrun runs: what
// one run produced, as rows. The trainer fills them, the runner writes them;
// summaries, claims and plots (package results and results/plot) read them.
//
// Layout, under a results root dir:
//
//	<dir>/metrics/experiment=<name>/run-<id>.parquet
//	<dir>/heads/experiment=<name>/run-<id>.parquet
//	<dir>/maps/experiment=<name>/run-<id>.parquet   (optional: only when the run kept maps)
//	<dir>/runs/experiment=<name>/run-<id>.parquet   (written last: "run finished")
//
// The experiment is a Hive partition key: it is the directory name, not a
// column inside the files. Every file carries the footer key/values
// sinkrun.config, sinkrun.config_hash, sinkrun.version, sinkrun.git_revision
// and sinkrun.run_id. Files are written with a REQUIRED schema root and zstd.
//
// Each table's columns are declared once, in schema.go: the list drives the
// writer, the reader and the column reference of docs/results.md. The
// metrics' names, coordinates and final_* columns come from the metric
// catalogue (config.Metrics).
//
// Read them with, e.g., DuckDB:
//
//	SELECT * FROM read_parquet('results/runs/*/*.parquet', hive_partitioning = true);
package table

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sinkrun/sinkrun/config"
)

// Status is a run's outcome, the status column of the runs table.
type Status string

// The statuses a run can end with. statusDocs (schema.go) explains them.
const (
	StatusDone     Status = "done"
	StatusDiverged Status = "diverged"
	StatusFailed   Status = "failed"
)

// Run is one row of the runs table: a run's identity, every resolved setting,
// its outcome and its final metrics.
type Run struct {
	ID, Experiment string
	// Settings is every resolved setting (config.Flatten), one typed column
	// each: int64, float64, bool or string (int, int32 and float32 are widened).
	Settings []config.Column
	// Varied lists the varied axes (config.Run.Varied), stored as the JSON
	// column "varied" so summaries can be rebuilt from disk.
	Varied []config.Setting
	// GridIndex is the run's 0-based place in its experiment's grid
	// (config.Run.Index; seeds vary fastest). -1 means unknown (NULL in
	// Parquet, and what files written before the column read back as).
	GridIndex int64
	Status    Status
	Error     string // why the run diverged or failed
	// DivergedStep is -1 when the run did not diverge (NULL in Parquet).
	DivergedStep      int64
	Steps, TokensSeen int64
	StartedAt         time.Time
	// Timings: NaN is written as NULL and read back as NaN.
	WallSeconds, MsPerStep float64
	Params                 int64
	Backend                string
	// Finals are the final_* columns (config.FinalColumns): each a copy of
	// one value of a metric at the run's last measurement (FinalsOf). A
	// column a file lacks, NULL, or one not set reads as NaN (Final).
	Finals map[string]config.FinalValue
	// Written as footer key/values of every file; ConfigHash, ToolVersion and
	// GitRevision are also columns of the runs table.
	ConfigJSON, ConfigHash, ToolVersion, GitRevision string
}

// NewRun is the runs row of a run that has not measured anything yet: its
// identity and settings from the resolved config, no status, and every
// measurement unknown (-1 or NaN: NULL in Parquet), so that a run which fails
// early does not record zeros that read as results. The caller sets the
// status and what the run measured.
func NewRun(run config.Run, backend string, startedAt time.Time) Run {
	nan := math.NaN()
	return Run{
		ID: run.ID(), Experiment: run.Experiment, Settings: config.Flatten(run), Varied: run.Varied,
		GridIndex: int64(run.Index), DivergedStep: -1, StartedAt: startedAt.UTC(), Backend: backend,
		ConfigJSON: run.JSON(), ConfigHash: run.Hash(), ToolVersion: config.Version,
		WallSeconds: nan, MsPerStep: nan, Finals: config.Finals(nil),
	}
}

// Final is the value of a final column (e.g. "final_sink1") and whether it
// is a proxy score; NaN when the run has none.
func (r Run) Final(column string) config.FinalValue {
	if v, ok := r.Finals[column]; ok {
		return v
	}
	return config.FinalValue{Value: math.NaN()}
}

// SetFinal sets a final column.
func (r *Run) SetFinal(column string, v float64, proxy bool) {
	if r.Finals == nil {
		r.Finals = map[string]config.FinalValue{}
	}
	r.Finals[column] = config.FinalValue{Value: v, Proxy: proxy}
}

// Metric is one row of the long metrics table. K, Layer and Head = -1 and
// Eps = NaN mean "not applicable" and are written as NULL.
type Metric struct {
	RunID            string
	Step, TokensSeen int64
	Metric           string // a catalogue metric (config.Metrics) of the metrics table
	K                int32
	Eps              float64
	Layer, Head      int32
	Value            float64
	IsProxy          bool
}

// Head is one row of the heads table: a head's alpha_k and Sink_k at a step.
type Head struct {
	RunID              string
	Step, TokensSeen   int64
	Layer, Head, K     int32
	Alpha, SinkPercent float64
	IsProxy            bool
}

// Map is one row of the maps table: one attention weight of probe sequence
// 0 at the final measurement step, for every layer, head, query and key.
// Key is the key's token position 0..T-1, or -1 for the slot column (learnable
// key bias, KV bias, sink token or sink logit) when the model has one.
type Map struct {
	RunID       string
	Step        int64
	Layer, Head int32
	Query, Key  int32
	Weight      float64
}

// Table names: the first directory level under the results root.
const (
	TableRuns    = "runs"
	TableMetrics = "metrics"
	TableHeads   = "heads"
	TableMaps    = "maps"
)

// Footer keys of every file.
const (
	KeyConfig      = "sinkrun.config"
	KeyConfigHash  = "sinkrun.config_hash"
	KeyVersion     = "sinkrun.version"
	KeyGitRevision = "sinkrun.git_revision"
	KeyRunID       = "sinkrun.run_id"
)

// PartitionDir is <dir>/<table>/experiment=<escaped name>.
func PartitionDir(dir, table, experiment string) string {
	return filepath.Join(dir, table, "experiment="+url.PathEscape(experiment))
}

// Path is the file of one run in one table.
func Path(dir, table, experiment, id string) string {
	return filepath.Join(PartitionDir(dir, table, experiment), "run-"+id+".parquet")
}

// Done reports whether the run's runs file exists, i.e. the run finished
// (with any status) and all three of its files are complete.
func Done(dir, experiment, id string) bool {
	_, err := os.Stat(Path(dir, TableRuns, experiment, id))
	return err == nil
}

func checkNames(experiment, id string) error {
	if experiment == "" {
		return errors.New("results: empty experiment name")
	}
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return fmt.Errorf("results: bad run id %q", id)
	}
	return nil
}

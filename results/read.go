package results

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/sinkrun/sinkrun/config"
)

// ReadRuns reads every <dir>/runs/experiment=*/run-*.parquet. The experiment
// comes from the partition directory, the settings columns back into
// Settings (in file order), Varied from its JSON column and ConfigJSON from
// the footer. Temporary files are ignored. Runs are ordered by StartedAt
// (then ID), which is grid order when runs are executed in grid order. A
// missing results directory gives no runs and no error.
func ReadRuns(dir string) ([]Run, error) {
	paths, err := filepath.Glob(filepath.Join(dir, TableRuns, "experiment=*", "run-*.parquet"))
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	mem := memory.NewGoAllocator()
	var runs []Run
	for _, p := range paths {
		exp, err := experimentOf(p)
		if err != nil {
			return nil, err
		}
		var got []Run
		kv, err := readFile(mem, p, func(rec arrow.Record) error {
			rs, err := runsFrom(rec)
			got = append(got, rs...)
			return err
		})
		if err != nil {
			return nil, err
		}
		for i := range got {
			got[i].Experiment = exp
			if v := kv.FindValue(KeyConfig); v != nil {
				got[i].ConfigJSON = *v
			}
		}
		runs = append(runs, got...)
	}
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].StartedAt.Equal(runs[j].StartedAt) {
			return runs[i].StartedAt.Before(runs[j].StartedAt)
		}
		return runs[i].ID < runs[j].ID
	})
	return runs, nil
}

// ReadMetrics reads the metrics table of one experiment (all its runs, in
// run-id order). A missing partition gives no rows and no error.
func ReadMetrics(dir, experiment string) ([]Metric, error) {
	var out []Metric
	err := readPartition(dir, TableMetrics, experiment, func(rec arrow.Record) error {
		ms, err := metricsFrom(rec)
		out = append(out, ms...)
		return err
	})
	return out, err
}

// ReadHeads reads the heads table of one experiment (all its runs, in run-id
// order). A missing partition gives no rows and no error.
func ReadHeads(dir, experiment string) ([]Head, error) {
	var out []Head
	err := readPartition(dir, TableHeads, experiment, func(rec arrow.Record) error {
		hs, err := headsFrom(rec)
		out = append(out, hs...)
		return err
	})
	return out, err
}

// ReadMaps reads the maps table of one experiment (all its runs, in run-id
// order). A missing partition gives no rows and no error.
func ReadMaps(dir, experiment string) ([]Map, error) {
	var out []Map
	err := readPartition(dir, TableMaps, experiment, func(rec arrow.Record) error {
		ms, err := mapsFrom(rec)
		out = append(out, ms...)
		return err
	})
	return out, err
}

func readPartition(dir, table, experiment string, fn func(arrow.Record) error) error {
	paths, err := filepath.Glob(filepath.Join(PartitionDir(dir, table, experiment), "run-*.parquet"))
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	mem := memory.NewGoAllocator()
	for _, p := range paths {
		if _, err := readFile(mem, p, fn); err != nil {
			return err
		}
	}
	return nil
}

func experimentOf(path string) (string, error) {
	base := filepath.Base(filepath.Dir(path))
	v, ok := strings.CutPrefix(base, "experiment=")
	if !ok {
		return "", fmt.Errorf("results: %s: not in an experiment=<name> directory", path)
	}
	exp, err := url.PathUnescape(v)
	if err != nil {
		return "", fmt.Errorf("results: %s: %w", path, err)
	}
	return exp, nil
}

// readFile reads a Parquet file and calls fn on each of its record batches;
// it returns the footer key/values.
func readFile(mem memory.Allocator, path string, fn func(arrow.Record) error) (metadata.KeyValueMetadata, error) {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("results: %w", err)
		}
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	defer rdr.Close()
	kv := rdr.MetaData().KeyValueMetadata()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, -1)
	defer tr.Release()
	for tr.Next() {
		if err := fn(tr.Record()); err != nil {
			return nil, fmt.Errorf("results: %s: %w", path, err)
		}
	}
	if err := tr.Err(); err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	return kv, nil
}

// cols gives typed access to a record's columns by name.
type cols struct {
	rec arrow.Record
	err error
}

func (c *cols) get(name string) arrow.Array {
	idx := c.rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		if c.err == nil {
			c.err = fmt.Errorf("missing column %q", name)
		}
		return nil
	}
	return c.rec.Column(idx[0])
}

func colAs[T arrow.Array](c *cols, name string) T {
	var zero T
	a := c.get(name)
	if a == nil {
		return zero
	}
	t, ok := a.(T)
	if !ok {
		if c.err == nil {
			c.err = fmt.Errorf("column %q has type %s, want %T", name, a.DataType(), zero)
		}
		return zero
	}
	return t
}

// optional is colAs for a column that files of older versions lack: a
// missing column gives nil (read as NULL), a mistyped one an error.
func optional[T arrow.Array](c *cols, name string) T {
	var zero T
	if len(c.rec.Schema().FieldIndices(name)) == 0 {
		return zero
	}
	return colAs[T](c, name)
}

// Typed readers that tolerate a missing column (nil array) and nulls.
func str(a *array.String, i int) string {
	if a == nil || a.IsNull(i) {
		return ""
	}
	return a.Value(i)
}

func i64(a *array.Int64, i int, null int64) int64 {
	if a == nil || a.IsNull(i) {
		return null
	}
	return a.Value(i)
}

func i32(a *array.Int32, i int) int32 {
	if a == nil || a.IsNull(i) {
		return -1
	}
	return a.Value(i)
}

func f64(a *array.Float64, i int) float64 {
	if a == nil || a.IsNull(i) {
		return math.NaN()
	}
	return a.Value(i)
}

func boolean(a *array.Boolean, i int) bool {
	return a != nil && !a.IsNull(i) && a.Value(i)
}

func runsFrom(rec arrow.Record) ([]Run, error) {
	c := &cols{rec: rec}
	id := colAs[*array.String](c, "run_id")
	varied := colAs[*array.String](c, "varied")
	gridIndex := optional[*array.Int64](c, "grid_index")
	status := colAs[*array.String](c, "status")
	errCol := colAs[*array.String](c, "error")
	diverged := colAs[*array.Int64](c, "diverged_step")
	steps := colAs[*array.Int64](c, "steps")
	tokens := colAs[*array.Int64](c, "tokens_seen")
	started := colAs[*array.Timestamp](c, "started_at")
	wall := colAs[*array.Float64](c, "wall_seconds")
	msPer := colAs[*array.Float64](c, "ms_per_step")
	params := colAs[*array.Int64](c, "params")
	backend := colAs[*array.String](c, "backend")
	valLoss := colAs[*array.Float64](c, "final_val_loss")
	trainLoss := colAs[*array.Float64](c, "final_train_loss")
	sink1 := colAs[*array.Float64](c, "final_sink1")
	sink1Proxy := colAs[*array.Boolean](c, "final_sink1_is_proxy")
	sinkSlot := optional[*array.Float64](c, "final_sink_slot")
	alpha1 := colAs[*array.Float64](c, "final_mean_alpha1")
	massive := colAs[*array.Float64](c, "final_massive")
	hash := colAs[*array.String](c, "config_hash")
	version := colAs[*array.String](c, "tool_version")
	git := colAs[*array.String](c, "git_revision")
	if c.err != nil {
		return nil, c.err
	}
	var tsUnit arrow.TimeUnit = arrow.Microsecond
	if started != nil {
		tsUnit = started.DataType().(*arrow.TimestampType).Unit
	}

	fixed := map[string]bool{"run_id": true}
	for _, f := range runsFixed {
		fixed[f.Name] = true
	}
	var settingIdx []int
	for i, f := range rec.Schema().Fields() {
		if !fixed[f.Name] {
			settingIdx = append(settingIdx, i)
		}
	}

	n := int(rec.NumRows())
	runs := make([]Run, n)
	for i := range runs {
		r := Run{
			ID:              str(id, i),
			GridIndex:       i64(gridIndex, i, -1),
			Status:          str(status, i),
			Error:           str(errCol, i),
			DivergedStep:    i64(diverged, i, -1),
			Steps:           i64(steps, i, 0),
			TokensSeen:      i64(tokens, i, 0),
			WallSeconds:     f64(wall, i),
			MsPerStep:       f64(msPer, i),
			Params:          i64(params, i, 0),
			Backend:         str(backend, i),
			FinalValLoss:    f64(valLoss, i),
			FinalTrainLoss:  f64(trainLoss, i),
			FinalSink1:      f64(sink1, i),
			Sink1Proxy:      boolean(sink1Proxy, i),
			FinalSinkSlot:   f64(sinkSlot, i),
			FinalMeanAlpha1: f64(alpha1, i),
			FinalMassive:    f64(massive, i),
			ConfigHash:      str(hash, i),
			ToolVersion:     str(version, i),
			GitRevision:     str(git, i),
		}
		if started != nil && !started.IsNull(i) {
			r.StartedAt = started.Value(i).ToTime(tsUnit).UTC()
		}
		if v := str(varied, i); v != "" {
			if err := json.Unmarshal([]byte(v), &r.Varied); err != nil {
				return nil, fmt.Errorf("column varied: %w", err)
			}
		}
		for _, j := range settingIdx {
			name := rec.Schema().Field(j).Name
			v, err := settingValue(rec.Column(j), i)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", name, err)
			}
			r.Settings = append(r.Settings, config.Column{Name: name, Value: v})
		}
		runs[i] = r
	}
	return runs, nil
}

func settingValue(a arrow.Array, i int) (any, error) {
	if a.IsNull(i) {
		return nil, nil
	}
	switch x := a.(type) {
	case *array.Int64:
		return x.Value(i), nil
	case *array.Int32:
		return int64(x.Value(i)), nil
	case *array.Float64:
		return x.Value(i), nil
	case *array.Boolean:
		return x.Value(i), nil
	case *array.String:
		return x.Value(i), nil
	case *array.LargeString:
		return x.Value(i), nil
	}
	return nil, fmt.Errorf("unsupported type %s", a.DataType())
}

func metricsFrom(rec arrow.Record) ([]Metric, error) {
	c := &cols{rec: rec}
	id := colAs[*array.String](c, "run_id")
	step := colAs[*array.Int64](c, "step")
	tokens := colAs[*array.Int64](c, "tokens_seen")
	name := colAs[*array.String](c, "metric")
	k := colAs[*array.Int32](c, "k")
	eps := colAs[*array.Float64](c, "eps")
	layer := colAs[*array.Int32](c, "layer")
	head := colAs[*array.Int32](c, "head")
	value := colAs[*array.Float64](c, "value")
	proxy := colAs[*array.Boolean](c, "is_proxy")
	if c.err != nil {
		return nil, c.err
	}
	out := make([]Metric, rec.NumRows())
	for i := range out {
		out[i] = Metric{
			RunID: str(id, i), Step: i64(step, i, 0), TokensSeen: i64(tokens, i, 0),
			Metric: str(name, i), K: i32(k, i), Eps: f64(eps, i),
			Layer: i32(layer, i), Head: i32(head, i),
			Value: f64(value, i), IsProxy: boolean(proxy, i),
		}
	}
	return out, nil
}

func headsFrom(rec arrow.Record) ([]Head, error) {
	c := &cols{rec: rec}
	id := colAs[*array.String](c, "run_id")
	step := colAs[*array.Int64](c, "step")
	tokens := colAs[*array.Int64](c, "tokens_seen")
	layer := colAs[*array.Int32](c, "layer")
	head := colAs[*array.Int32](c, "head")
	k := colAs[*array.Int32](c, "k")
	alpha := colAs[*array.Float64](c, "alpha")
	sink := colAs[*array.Float64](c, "sink_percent")
	proxy := colAs[*array.Boolean](c, "is_proxy")
	if c.err != nil {
		return nil, c.err
	}
	out := make([]Head, rec.NumRows())
	for i := range out {
		out[i] = Head{
			RunID: str(id, i), Step: i64(step, i, 0), TokensSeen: i64(tokens, i, 0),
			Layer: i32(layer, i), Head: i32(head, i), K: i32(k, i),
			Alpha: f64(alpha, i), SinkPercent: f64(sink, i), IsProxy: boolean(proxy, i),
		}
	}
	return out, nil
}

func mapsFrom(rec arrow.Record) ([]Map, error) {
	c := &cols{rec: rec}
	id := colAs[*array.String](c, "run_id")
	step := colAs[*array.Int64](c, "step")
	layer := colAs[*array.Int32](c, "layer")
	head := colAs[*array.Int32](c, "head")
	query := colAs[*array.Int32](c, "query")
	key := colAs[*array.Int32](c, "key")
	weight := colAs[*array.Float64](c, "weight")
	if c.err != nil {
		return nil, c.err
	}
	out := make([]Map, rec.NumRows())
	for i := range out {
		out[i] = Map{
			RunID: str(id, i), Step: i64(step, i, 0),
			Layer: layer.Value(i), Head: head.Value(i),
			Query: query.Value(i), Key: key.Value(i), Weight: f64(weight, i),
		}
	}
	return out, nil
}

package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/sinkrun/sinkrun/config"
)

// Fixed columns of the runs table; every other column is a setting.
var runsFixed = []arrow.Field{
	{Name: "varied", Type: arrow.BinaryTypes.String},
	{Name: "grid_index", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "status", Type: arrow.BinaryTypes.String},
	{Name: "error", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "diverged_step", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "steps", Type: arrow.PrimitiveTypes.Int64},
	{Name: "tokens_seen", Type: arrow.PrimitiveTypes.Int64},
	{Name: "started_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	{Name: "wall_seconds", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "ms_per_step", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "params", Type: arrow.PrimitiveTypes.Int64},
	{Name: "backend", Type: arrow.BinaryTypes.String},
	{Name: "final_val_loss", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "final_train_loss", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "final_sink1", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "final_sink1_is_proxy", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "final_sink_slot", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "final_mean_alpha1", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "final_massive", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "config_hash", Type: arrow.BinaryTypes.String},
	{Name: "tool_version", Type: arrow.BinaryTypes.String},
	{Name: "git_revision", Type: arrow.BinaryTypes.String},
}

var metricsFields = []arrow.Field{
	{Name: "run_id", Type: arrow.BinaryTypes.String},
	{Name: "step", Type: arrow.PrimitiveTypes.Int64},
	{Name: "tokens_seen", Type: arrow.PrimitiveTypes.Int64},
	{Name: "metric", Type: arrow.BinaryTypes.String},
	{Name: "k", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "eps", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "layer", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "head", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64},
	{Name: "is_proxy", Type: arrow.FixedWidthTypes.Boolean},
}

var headsFields = []arrow.Field{
	{Name: "run_id", Type: arrow.BinaryTypes.String},
	{Name: "step", Type: arrow.PrimitiveTypes.Int64},
	{Name: "tokens_seen", Type: arrow.PrimitiveTypes.Int64},
	{Name: "layer", Type: arrow.PrimitiveTypes.Int32},
	{Name: "head", Type: arrow.PrimitiveTypes.Int32},
	{Name: "k", Type: arrow.PrimitiveTypes.Int32},
	{Name: "alpha", Type: arrow.PrimitiveTypes.Float64},
	{Name: "sink_percent", Type: arrow.PrimitiveTypes.Float64},
	{Name: "is_proxy", Type: arrow.FixedWidthTypes.Boolean},
}

var mapsFields = []arrow.Field{
	{Name: "run_id", Type: arrow.BinaryTypes.String},
	{Name: "step", Type: arrow.PrimitiveTypes.Int64},
	{Name: "layer", Type: arrow.PrimitiveTypes.Int32},
	{Name: "head", Type: arrow.PrimitiveTypes.Int32},
	{Name: "query", Type: arrow.PrimitiveTypes.Int32},
	{Name: "key", Type: arrow.PrimitiveTypes.Int32},
	{Name: "weight", Type: arrow.PrimitiveTypes.Float64},
}

// Write writes the run's three tables: metrics and heads first, runs last
// (the runs file marks the run finished). Each file is written to a hidden
// temporary name in its partition directory and renamed into place, so no
// partial file is ever visible under its final name. An existing runs file of
// the same run is removed first, so Done is false while the run's files are
// being replaced. It is WriteWithMaps with no maps.
func Write(dir string, r Run, metrics []Metric, heads []Head) error {
	return WriteWithMaps(dir, r, metrics, heads, nil)
}

// WriteWithMaps is Write plus the maps table, written before the runs file.
// With no maps rows no maps file is written (and a stale one of the same run
// is removed).
func WriteWithMaps(dir string, r Run, metrics []Metric, heads []Head, maps []Map) error {
	if err := checkNames(r.Experiment, r.ID); err != nil {
		return err
	}
	mem := memory.NewGoAllocator()
	meta := footer(r)

	runsRec, err := runsRecord(mem, r, meta)
	if err != nil {
		return err
	}
	defer runsRec.Release()
	metricsRec := metricsRecord(mem, metrics, meta)
	defer metricsRec.Release()
	headsRec := headsRecord(mem, heads, meta)
	defer headsRec.Release()

	if err := os.Remove(Path(dir, TableRuns, r.Experiment, r.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("results: %w", err)
	}
	type table struct {
		table string
		rec   arrow.Record
	}
	tables := []table{{TableMetrics, metricsRec}, {TableHeads, headsRec}}
	if len(maps) > 0 {
		mapsRec := mapsRecord(mem, maps, meta)
		defer mapsRec.Release()
		tables = append(tables, table{TableMaps, mapsRec})
	} else if err := os.Remove(Path(dir, TableMaps, r.Experiment, r.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("results: %w", err)
	}
	tables = append(tables, table{TableRuns, runsRec}) // last: marks the run finished
	for _, t := range tables {
		if err := writeFile(mem, Path(dir, t.table, r.Experiment, r.ID), t.rec); err != nil {
			return err
		}
	}
	return nil
}

func footer(r Run) arrow.Metadata {
	return arrow.NewMetadata(
		[]string{KeyConfig, KeyConfigHash, KeyVersion, KeyGitRevision, KeyRunID},
		[]string{r.ConfigJSON, r.ConfigHash, r.ToolVersion, r.GitRevision, r.ID},
	)
}

// writeFile writes one record to path atomically (temp file + rename).
func writeFile(mem memory.Allocator, path string, rec arrow.Record) (err error) {
	partDir := filepath.Dir(path)
	if err := os.MkdirAll(partDir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	f, err := os.CreateTemp(partDir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	tmp := f.Name()
	// CreateTemp makes the file private (0600); results are for other tools
	// and other users to read.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("results: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("results: writing %s: %w", path, err)
		}
	}()
	props := parquet.NewWriterProperties(
		parquet.WithRootRepetition(parquet.Repetitions.Required),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithAllocator(mem),
	)
	// Hide f's Close from the Parquet writer (it would close f) so that f can
	// be synced before the rename.
	fw, err := pqarrow.NewFileWriter(rec.Schema(), struct{ io.Writer }{f}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		return err
	}
	if rec.NumRows() > 0 {
		if err := fw.Write(rec); err != nil {
			fw.Close()
			return err
		}
	}
	if err := fw.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(partDir); err == nil { // best effort: persist the rename
		d.Sync()
		d.Close()
	}
	return nil
}

// settingType maps a setting value to its Arrow type and normalised value.
func settingType(v any) (arrow.DataType, any, error) {
	switch x := v.(type) {
	case int64:
		return arrow.PrimitiveTypes.Int64, x, nil
	case int:
		return arrow.PrimitiveTypes.Int64, int64(x), nil
	case int32:
		return arrow.PrimitiveTypes.Int64, int64(x), nil
	case float64:
		return arrow.PrimitiveTypes.Float64, x, nil
	case float32:
		return arrow.PrimitiveTypes.Float64, float64(x), nil
	case bool:
		return arrow.FixedWidthTypes.Boolean, x, nil
	case string:
		return arrow.BinaryTypes.String, x, nil
	}
	return nil, nil, fmt.Errorf("unsupported type %T", v)
}

func runsRecord(mem memory.Allocator, r Run, meta arrow.Metadata) (arrow.Record, error) {
	fields := []arrow.Field{{Name: "run_id", Type: arrow.BinaryTypes.String}}
	seen := map[string]bool{"run_id": true}
	for _, f := range runsFixed {
		seen[f.Name] = true
	}
	values := make([]any, len(r.Settings))
	for i, s := range r.Settings {
		t, v, err := settingType(s.Value)
		if err != nil {
			return nil, fmt.Errorf("results: setting %s: %w", s.Name, err)
		}
		if s.Name == "" || seen[s.Name] {
			return nil, fmt.Errorf("results: setting column %q is empty or clashes with another column", s.Name)
		}
		seen[s.Name] = true
		fields = append(fields, arrow.Field{Name: s.Name, Type: t})
		values[i] = v
	}
	fields = append(fields, runsFixed...)
	schema := arrow.NewSchema(fields, &meta)

	varied := r.Varied
	if varied == nil {
		varied = []config.Setting{}
	}
	vj, err := json.Marshal(varied)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}

	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	col := 0
	next := func() array.Builder { c := b.Field(col); col++; return c }
	next().(*array.StringBuilder).Append(r.ID)
	for _, v := range values {
		switch x := v.(type) {
		case int64:
			next().(*array.Int64Builder).Append(x)
		case float64:
			next().(*array.Float64Builder).Append(x)
		case bool:
			next().(*array.BooleanBuilder).Append(x)
		case string:
			next().(*array.StringBuilder).Append(x)
		}
	}
	next().(*array.StringBuilder).Append(string(vj))
	if r.GridIndex < 0 {
		next().AppendNull()
	} else {
		next().(*array.Int64Builder).Append(r.GridIndex)
	}
	next().(*array.StringBuilder).Append(r.Status)
	if r.Error == "" {
		next().AppendNull()
	} else {
		next().(*array.StringBuilder).Append(r.Error)
	}
	if r.DivergedStep < 0 {
		next().AppendNull()
	} else {
		next().(*array.Int64Builder).Append(r.DivergedStep)
	}
	next().(*array.Int64Builder).Append(r.Steps)
	next().(*array.Int64Builder).Append(r.TokensSeen)
	next().(*array.TimestampBuilder).Append(arrow.Timestamp(r.StartedAt.UnixMicro()))
	appendFloatOrNull(next(), r.WallSeconds)
	appendFloatOrNull(next(), r.MsPerStep)
	next().(*array.Int64Builder).Append(r.Params)
	next().(*array.StringBuilder).Append(r.Backend)
	appendFloatOrNull(next(), r.FinalValLoss)
	appendFloatOrNull(next(), r.FinalTrainLoss)
	appendFloatOrNull(next(), r.FinalSink1)
	next().(*array.BooleanBuilder).Append(r.Sink1Proxy)
	appendFloatOrNull(next(), r.FinalSinkSlot)
	appendFloatOrNull(next(), r.FinalMeanAlpha1)
	appendFloatOrNull(next(), r.FinalMassive)
	next().(*array.StringBuilder).Append(r.ConfigHash)
	next().(*array.StringBuilder).Append(r.ToolVersion)
	next().(*array.StringBuilder).Append(r.GitRevision)
	return b.NewRecord(), nil
}

func appendFloatOrNull(b array.Builder, v float64) {
	if math.IsNaN(v) {
		b.AppendNull()
		return
	}
	b.(*array.Float64Builder).Append(v)
}

func appendInt32OrNull(b *array.Int32Builder, v int32) {
	if v < 0 {
		b.AppendNull()
		return
	}
	b.Append(v)
}

func metricsRecord(mem memory.Allocator, ms []Metric, meta arrow.Metadata) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema(metricsFields, &meta))
	defer b.Release()
	b.Reserve(len(ms))
	runID := b.Field(0).(*array.StringBuilder)
	step := b.Field(1).(*array.Int64Builder)
	tokens := b.Field(2).(*array.Int64Builder)
	name := b.Field(3).(*array.StringBuilder)
	k := b.Field(4).(*array.Int32Builder)
	eps := b.Field(5).(*array.Float64Builder)
	layer := b.Field(6).(*array.Int32Builder)
	head := b.Field(7).(*array.Int32Builder)
	value := b.Field(8).(*array.Float64Builder)
	proxy := b.Field(9).(*array.BooleanBuilder)
	for _, m := range ms {
		runID.Append(m.RunID)
		step.Append(m.Step)
		tokens.Append(m.TokensSeen)
		name.Append(m.Metric)
		appendInt32OrNull(k, m.K)
		appendFloatOrNull(eps, m.Eps)
		appendInt32OrNull(layer, m.Layer)
		appendInt32OrNull(head, m.Head)
		value.Append(m.Value)
		proxy.Append(m.IsProxy)
	}
	return b.NewRecord()
}

func headsRecord(mem memory.Allocator, hs []Head, meta arrow.Metadata) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema(headsFields, &meta))
	defer b.Release()
	b.Reserve(len(hs))
	runID := b.Field(0).(*array.StringBuilder)
	step := b.Field(1).(*array.Int64Builder)
	tokens := b.Field(2).(*array.Int64Builder)
	layer := b.Field(3).(*array.Int32Builder)
	head := b.Field(4).(*array.Int32Builder)
	k := b.Field(5).(*array.Int32Builder)
	alpha := b.Field(6).(*array.Float64Builder)
	sink := b.Field(7).(*array.Float64Builder)
	proxy := b.Field(8).(*array.BooleanBuilder)
	for _, h := range hs {
		runID.Append(h.RunID)
		step.Append(h.Step)
		tokens.Append(h.TokensSeen)
		layer.Append(h.Layer)
		head.Append(h.Head)
		k.Append(h.K)
		alpha.Append(h.Alpha)
		sink.Append(h.SinkPercent)
		proxy.Append(h.IsProxy)
	}
	return b.NewRecord()
}

func mapsRecord(mem memory.Allocator, ms []Map, meta arrow.Metadata) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema(mapsFields, &meta))
	defer b.Release()
	b.Reserve(len(ms))
	runID := b.Field(0).(*array.StringBuilder)
	step := b.Field(1).(*array.Int64Builder)
	layer := b.Field(2).(*array.Int32Builder)
	head := b.Field(3).(*array.Int32Builder)
	query := b.Field(4).(*array.Int32Builder)
	key := b.Field(5).(*array.Int32Builder)
	weight := b.Field(6).(*array.Float64Builder)
	for _, m := range ms {
		runID.Append(m.RunID)
		step.Append(m.Step)
		layer.Append(m.Layer)
		head.Append(m.Head)
		query.Append(m.Query)
		key.Append(m.Key)
		weight.Append(m.Weight)
	}
	return b.NewRecord()
}

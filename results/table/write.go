package table

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/sinkrun/sinkrun/internal/atomicfile"
)

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
	metricsRec, err := record(mem, metricsColumns, metrics, meta)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	defer metricsRec.Release()
	headsRec, err := record(mem, headsColumns, heads, meta)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
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
		mapsRec, err := record(mem, mapsColumns, maps, meta)
		if err != nil {
			return fmt.Errorf("results: %w", err)
		}
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

// RemoveTemps removes the temporary files that a process killed while
// writing the run's files left in its partitions (every table). Only call it
// while no other process may be writing this run.
func RemoveTemps(dir, experiment, id string) error {
	if err := checkNames(experiment, id); err != nil {
		return err
	}
	for _, table := range []string{TableRuns, TableMetrics, TableHeads, TableMaps} {
		if err := atomicfile.RemoveTemps(Path(dir, table, experiment, id)); err != nil {
			return fmt.Errorf("results: %w", err)
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

// writeFile writes one record to path atomically: no reader ever sees a
// partial file under its final name.
func writeFile(mem memory.Allocator, path string, rec arrow.Record) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	props := parquet.NewWriterProperties(
		parquet.WithRootRepetition(parquet.Repetitions.Required),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithAllocator(mem),
	)
	// Results are for other tools and other users to read: 0644.
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		fw, err := pqarrow.NewFileWriter(rec.Schema(), w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
		if err != nil {
			return err
		}
		if rec.NumRows() > 0 {
			if err := fw.Write(rec); err != nil {
				fw.Close()
				return err
			}
		}
		return fw.Close()
	})
	if err != nil {
		return fmt.Errorf("results: writing %s: %w", path, err)
	}
	return nil
}

// runsRecord is the one-row runs record of r: run_id, a column per
// setting, then the other columns of runsColumns.
func runsRecord(mem memory.Allocator, r Run, meta arrow.Metadata) (arrow.Record, error) {
	head, tail := runsColumns[:settingsAfter], runsColumns[settingsAfter:]
	taken := columnNames(runsColumns)
	flds := arrowFields(head)
	arrs, err := buildAll(mem, head, []Run{r})
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer func() { releaseAll(arrs) }()
	for _, s := range r.Settings {
		if s.Name == "" || taken[s.Name] {
			return nil, fmt.Errorf("results: setting column %q is empty or clashes with another column", s.Name)
		}
		taken[s.Name] = true
		a, err := settingArray(mem, s.Value)
		if err != nil {
			return nil, fmt.Errorf("results: setting %s: %w", s.Name, err)
		}
		flds = append(flds, arrow.Field{Name: s.Name, Type: a.DataType()})
		arrs = append(arrs, a)
	}
	rest, err := buildAll(mem, tail, []Run{r})
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	flds = append(flds, arrowFields(tail)...)
	arrs = append(arrs, rest...)
	return array.NewRecord(arrow.NewSchema(flds, &meta), arrs, 1), nil
}

// settingArray is a one-value array of a setting: int64, float64, bool or
// string (int, int32 and float32 are widened).
func settingArray(mem memory.Allocator, v any) (arrow.Array, error) {
	switch x := v.(type) {
	case int64:
		return oneValue(array.NewInt64Builder(mem), x), nil
	case int:
		return oneValue(array.NewInt64Builder(mem), int64(x)), nil
	case int32:
		return oneValue(array.NewInt64Builder(mem), int64(x)), nil
	case float64:
		return oneValue(array.NewFloat64Builder(mem), x), nil
	case float32:
		return oneValue(array.NewFloat64Builder(mem), float64(x)), nil
	case bool:
		return oneValue(array.NewBooleanBuilder(mem), x), nil
	case string:
		return oneValue(array.NewStringBuilder(mem), x), nil
	}
	return nil, fmt.Errorf("unsupported type %T", v)
}

func oneValue[T any](b valueBuilder[T], v T) arrow.Array {
	defer b.Release()
	b.Append(v)
	return b.NewArray()
}

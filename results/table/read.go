package table

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	return readPartition(dir, TableMetrics, experiment, metricsColumns)
}

// ReadHeads reads the heads table of one experiment (all its runs, in run-id
// order). A missing partition gives no rows and no error.
func ReadHeads(dir, experiment string) ([]Head, error) {
	return readPartition(dir, TableHeads, experiment, headsColumns)
}

// ReadMaps reads the maps table of one experiment (all its runs, in run-id
// order). A missing partition gives no rows and no error.
func ReadMaps(dir, experiment string) ([]Map, error) {
	return readPartition(dir, TableMaps, experiment, mapsColumns)
}

// readPartition reads the rows of every run file of one experiment's
// partition of a table.
func readPartition[R any](dir, table, experiment string, cols []column[R]) ([]R, error) {
	paths, err := filepath.Glob(filepath.Join(PartitionDir(dir, table, experiment), "run-*.parquet"))
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	mem := memory.NewGoAllocator()
	var out []R
	for _, p := range paths {
		_, err := readFile(mem, p, func(rec arrow.Record) error {
			rows, err := decode(rec, cols)
			out = append(out, rows...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
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

// runsFrom reads a runs record: the columns of runsColumns, and every other
// column as a setting (in file order).
func runsFrom(rec arrow.Record) ([]Run, error) {
	runs, err := decode(rec, runsColumns)
	if err != nil {
		return nil, err
	}
	own := columnNames(runsColumns)
	for j, f := range rec.Schema().Fields() {
		if own[f.Name] {
			continue
		}
		for i := range runs {
			v, err := settingValue(rec.Column(j), i)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", f.Name, err)
			}
			runs[i].Settings = append(runs[i].Settings, config.Column{Name: f.Name, Value: v})
		}
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

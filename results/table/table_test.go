package table

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/sinkrun/sinkrun/config"
)

func testRun(id, exp string) Run {
	return Run{
		ID: id, Experiment: exp,
		Settings: []config.Column{
			{Name: "model_layers", Value: int64(4)},
			{Name: "model_init_std", Value: 0.02},
			{Name: "model_tied", Value: true},
			{Name: "model_attention", Value: "sigmoid"},
			{Name: "train_optimizer_betas", Value: "0.9,0.95"},
			{Name: "seed", Value: int64(7)},
		},
		Varied:       []config.Setting{{Path: "model.attention", Value: "sigmoid"}},
		GridIndex:    3,
		Status:       "diverged",
		Error:        "loss is NaN at step 120",
		DivergedStep: 120,
		Steps:        120,
		TokensSeen:   120 * 32 * 64,
		StartedAt:    time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC),
		WallSeconds:  12.5,
		MsPerStep:    math.NaN(),
		Params:       812345,
		Backend:      "xla:cpu",
		Finals: map[string]config.FinalValue{
			"final_val_loss":    {Value: math.NaN()},
			"final_train_loss":  {Value: 3.25},
			"final_sink1":       {Value: 42.5, Proxy: true},
			"final_sink_slot":   {Value: 87.5, Proxy: true},
			"final_mean_alpha1": {Value: 0.61},
			"final_massive":     {Value: 123.4},
		},
		ConfigJSON:  `{"experiment":"` + exp + `","seed":7}`,
		ConfigHash:  "abc123",
		ToolVersion: "0.1.0",
		GitRevision: "deadbeef",
	}
}

func testMetrics(id string) []Metric {
	return []Metric{
		{RunID: id, Step: 0, TokensSeen: 0, Metric: "val_loss", K: -1, Eps: math.NaN(), Layer: -1, Head: -1, Value: 5.5},
		{RunID: id, Step: 100, TokensSeen: 204800, Metric: "sink", K: 1, Eps: 0.3, Layer: -1, Head: -1, Value: 42.5, IsProxy: true},
		{RunID: id, Step: 100, TokensSeen: 204800, Metric: "massive_hidden", K: -1, Eps: math.NaN(), Layer: 2, Head: -1, Value: 80},
		{RunID: id, Step: 100, TokensSeen: 204800, Metric: "mean_alpha", K: 1, Eps: math.NaN(), Layer: 1, Head: 3, Value: 0.25},
		{RunID: id, Step: 120, TokensSeen: 245760, Metric: "train_loss", K: -1, Eps: math.NaN(), Layer: -1, Head: -1, Value: math.Inf(1)},
	}
}

func testHeads(id string) []Head {
	return []Head{
		{RunID: id, Step: 100, TokensSeen: 204800, Layer: 0, Head: 0, K: 1, Alpha: 0.5, SinkPercent: 50, IsProxy: true},
		{RunID: id, Step: 100, TokensSeen: 204800, Layer: 3, Head: 2, K: 1, Alpha: 0.1, SinkPercent: 0},
	}
}

// sameFloat treats NaN as equal to NaN.
func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func equalRun(t *testing.T, got, want Run) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"WallSeconds", got.WallSeconds, want.WallSeconds},
		{"MsPerStep", got.MsPerStep, want.MsPerStep},
	} {
		if !sameFloat(f.got, f.want) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	for _, c := range config.FinalColumns() {
		if g, w := got.Final(c.Name), want.Final(c.Name); !sameFloat(g.Value, w.Value) || g.Proxy != w.Proxy {
			t.Errorf("%s = %+v, want %+v", c.Name, g, w)
		}
	}
	if !got.StartedAt.Equal(want.StartedAt) || got.StartedAt.Location() != time.UTC {
		t.Errorf("StartedAt = %v, want %v (UTC)", got.StartedAt, want.StartedAt)
	}
	// Compare the rest with the floats and times blanked.
	blank := func(r Run) Run {
		r.WallSeconds, r.MsPerStep, r.Finals = 0, 0, nil
		r.StartedAt = time.Time{}
		return r
	}
	if g, w := blank(got), blank(want); !reflect.DeepEqual(g, w) {
		t.Errorf("run mismatch:\n got %+v\nwant %+v", g, w)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := testRun("0123456789abcdef", "sig moid/z") // needs escaping in the directory name
	ms, hs := testMetrics(r.ID), testHeads(r.ID)
	if Done(dir, r.Experiment, r.ID) {
		t.Fatal("Done before Write")
	}
	if err := Write(dir, r, ms, hs); err != nil {
		t.Fatal(err)
	}
	if !Done(dir, r.Experiment, r.ID) {
		t.Fatal("Done false after Write")
	}
	// A second run of another experiment, finished, without metrics.
	r2 := testRun("fedcba9876543210", "plain")
	r2.Status, r2.Error, r2.DivergedStep = "done", "", -1
	r2.Finals = map[string]config.FinalValue{"final_sink1": {Value: 42.5}}
	r2.SetFinal("final_sink_slot", math.NaN(), false) // no slot: NULL
	r2.GridIndex = -1                                 // no grid index: NULL
	r2.Varied = nil
	r2.StartedAt = r.StartedAt.Add(time.Hour)
	if err := Write(dir, r2, nil, nil); err != nil {
		t.Fatal(err)
	}

	runs, err := ReadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("ReadRuns: %d runs, want 2", len(runs))
	}
	equalRun(t, runs[0], r)
	r2.Varied = []config.Setting{} // nil is written as [] and read back empty
	equalRun(t, runs[1], r2)

	gotM, err := ReadMetrics(dir, r.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotM) != len(ms) {
		t.Fatalf("ReadMetrics: %d rows, want %d", len(gotM), len(ms))
	}
	for i := range ms {
		g, w := gotM[i], ms[i]
		if !sameFloat(g.Eps, w.Eps) || !sameFloat(g.Value, w.Value) {
			t.Errorf("metric %d: eps/value %v/%v, want %v/%v", i, g.Eps, g.Value, w.Eps, w.Value)
		}
		g.Eps, w.Eps, g.Value, w.Value = 0, 0, 0, 0
		if g != w {
			t.Errorf("metric %d = %+v, want %+v", i, g, w)
		}
	}
	gotH, err := ReadHeads(dir, r.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotH, hs) {
		t.Errorf("ReadHeads = %+v, want %+v", gotH, hs)
	}
	if m, err := ReadMetrics(dir, "plain"); err != nil || len(m) != 0 {
		t.Errorf("ReadMetrics(plain) = %v, %v; want no rows", m, err)
	}

	// Layout, footers, schema root, codecs, nulls, no partition column.
	wantFooter := map[string]string{
		KeyConfig: r.ConfigJSON, KeyConfigHash: "abc123", KeyVersion: "0.1.0",
		KeyGitRevision: "deadbeef", KeyRunID: r.ID,
	}
	for _, table := range []string{TableRuns, TableMetrics, TableHeads} {
		p := filepath.Join(dir, table, "experiment=sig%20moid%2Fz", "run-"+r.ID+".parquet")
		if p != Path(dir, table, r.Experiment, r.ID) {
			t.Fatalf("Path = %s, want %s", Path(dir, table, r.Experiment, r.ID), p)
		}
		checkFile(t, p, wantFooter)
	}
	checkNulls(t, Path(dir, TableMetrics, r.Experiment, r.ID), map[string]int64{"k": 3, "eps": 4, "layer": 3, "head": 4, "value": 0})
	checkNulls(t, Path(dir, TableRuns, r.Experiment, r.ID), map[string]int64{"ms_per_step": 1, "final_val_loss": 1, "diverged_step": 0, "error": 0,
		"grid_index": 0, "final_sink_slot": 0})
	checkNulls(t, Path(dir, TableRuns, r2.Experiment, r2.ID), map[string]int64{"diverged_step": 1, "error": 1, "grid_index": 1, "final_sink_slot": 1})
	checkRunsSchema(t, Path(dir, TableRuns, r.Experiment, r.ID))

	// No temporary files remain.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		if !d.IsDir() && (!strings.HasSuffix(p, ".parquet") || strings.HasPrefix(d.Name(), ".")) {
			t.Errorf("stray file %s", p)
		}
		return nil
	})
}

func checkFile(t *testing.T, path string, wantFooter map[string]string) {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	md := rdr.MetaData()
	kv := md.KeyValueMetadata()
	for k, want := range wantFooter {
		if v := kv.FindValue(k); v == nil || *v != want {
			t.Errorf("%s: footer %s = %v, want %q", path, k, v, want)
		}
	}
	if rep := md.Schema.Root().RepetitionType(); rep != parquet.Repetitions.Required {
		t.Errorf("%s: schema root repetition %s, want REQUIRED", path, rep)
	}
	for i := 0; i < md.Schema.NumColumns(); i++ {
		if name := md.Schema.Column(i).Name(); name == "experiment" {
			t.Errorf("%s: partition column experiment inside the file", path)
		}
	}
	if rdr.NumRowGroups() == 0 {
		t.Errorf("%s: no row groups", path)
	}
	for g := 0; g < rdr.NumRowGroups(); g++ {
		rg := md.RowGroup(g)
		for c := 0; c < rg.NumColumns(); c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression() != compress.Codecs.Zstd {
				t.Errorf("%s: column %d codec %s, want ZSTD", path, c, cc.Compression())
			}
		}
	}
}

func openTable(t *testing.T, path string) arrow.Table {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdr.Close() })
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.NewGoAllocator())
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Release)
	return tbl
}

func checkNulls(t *testing.T, path string, want map[string]int64) {
	t.Helper()
	tbl := openTable(t, path)
	for name, n := range want {
		idx := tbl.Schema().FieldIndices(name)
		if len(idx) == 0 {
			t.Errorf("%s: no column %s", path, name)
			continue
		}
		var got int64
		for _, c := range tbl.Column(idx[0]).Data().Chunks() {
			got += int64(c.NullN())
		}
		if got != n {
			t.Errorf("%s: column %s has %d nulls, want %d", path, name, got, n)
		}
	}
}

func checkRunsSchema(t *testing.T, path string) {
	t.Helper()
	tbl := openTable(t, path)
	var names []string
	for _, f := range tbl.Schema().Fields() {
		names = append(names, f.Name)
	}
	want := []string{"run_id", "model_layers", "model_init_std", "model_tied", "model_attention",
		"train_optimizer_betas", "seed", "varied", "grid_index", "status", "error", "diverged_step", "steps",
		"tokens_seen", "started_at", "wall_seconds", "ms_per_step", "params", "backend",
		"final_val_loss", "final_train_loss", "final_sink1", "final_sink1_is_proxy", "final_sink_slot",
		"final_mean_alpha1", "final_massive", "config_hash", "tool_version", "git_revision"}
	// The columns of files written so far keep their order; final columns
	// the catalogue adds later come after them, in catalogue order.
	var later []string
	for _, f := range config.FinalColumns() {
		for _, c := range []string{f.Name, f.ProxyColumn} {
			if c != "" && !slices.Contains(want, c) && !slices.Contains(later, c) {
				later = append(later, c)
			}
		}
	}
	at := slices.Index(want, "config_hash")
	want = slices.Concat(want[:at], later, want[at:])
	if !reflect.DeepEqual(names, want) {
		t.Errorf("runs columns\n got %v\nwant %v", names, want)
	}
	types := map[string]string{
		"model_layers": "int64", "model_init_std": "float64", "model_tied": "bool",
		"model_attention": "utf8", "started_at": "timestamp[us, tz=UTC]",
		"grid_index": "int64", "final_sink_slot": "float64",
	}
	for name, typ := range types {
		f, _ := tbl.Schema().FieldsByName(name)
		if len(f) == 0 || f[0].Type.String() != typ {
			t.Errorf("column %s: type %v, want %s", name, f, typ)
		}
	}
}

func TestWriteFromFlatten(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Experiment = "default"
	r := Run{ID: cfg.ID(), Experiment: cfg.Experiment, Settings: config.Flatten(cfg), Status: "done",
		DivergedStep: -1, StartedAt: time.Unix(0, 0).UTC(), ConfigJSON: cfg.JSON(), ConfigHash: cfg.Hash()}
	if err := Write(dir, r, nil, nil); err != nil {
		t.Fatal(err)
	}
	runs, err := ReadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || !reflect.DeepEqual(runs[0].Settings, r.Settings) {
		t.Fatalf("settings round trip:\n got %+v\nwant %+v", runs, r.Settings)
	}
}

func TestWriteRejects(t *testing.T) {
	dir := t.TempDir()
	bad := []Run{
		{ID: "", Experiment: "e"},
		{ID: "a/b", Experiment: "e"},
		{ID: "x", Experiment: ""},
		{ID: "x", Experiment: "e", Settings: []config.Column{{Name: "status", Value: "x"}}},
		{ID: "x", Experiment: "e", Settings: []config.Column{{Name: "s", Value: []int{1}}}},
	}
	for _, r := range bad {
		if err := Write(dir, r, nil, nil); err == nil {
			t.Errorf("Write(%+v) succeeded", r)
		}
	}
	if runs, err := ReadRuns(dir); err != nil || len(runs) != 0 {
		t.Errorf("ReadRuns after rejected writes = %v, %v", runs, err)
	}
	if runs, err := ReadRuns(filepath.Join(dir, "missing")); err != nil || len(runs) != 0 {
		t.Errorf("ReadRuns(missing) = %v, %v", runs, err)
	}
}

// A temp file left by a crashed writer is ignored by ReadRuns and Done.
func TestIgnoresTempFiles(t *testing.T) {
	dir := t.TempDir()
	part := PartitionDir(dir, TableRuns, "e")
	if err := os.MkdirAll(part, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(part, ".run-x.parquet.123.tmp"), []byte("PAR1trunc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if Done(dir, "e", "x") {
		t.Error("Done true for a temp file")
	}
	if runs, err := ReadRuns(dir); err != nil || len(runs) != 0 {
		t.Errorf("ReadRuns = %v, %v", runs, err)
	}
}

// RemoveTemps clears what a killed writer left of one run in every table,
// and leaves other runs' files alone.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	var mine, others []string
	for _, table := range []string{TableRuns, TableMetrics, TableHeads, TableMaps} {
		part := PartitionDir(dir, table, "e")
		if err := os.MkdirAll(part, 0o755); err != nil {
			t.Fatal(err)
		}
		mine = append(mine, filepath.Join(part, ".run-x.parquet.123.tmp"))
		others = append(others, filepath.Join(part, ".run-y.parquet.123.tmp"), filepath.Join(part, "run-x.parquet"))
	}
	for _, p := range append(mine, others...) {
		if err := os.WriteFile(p, []byte("PAR1"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveTemps(dir, "e", "x"); err != nil {
		t.Fatal(err)
	}
	for _, p := range mine {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v, want removed", p, err)
		}
	}
	for _, p := range others {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if err := RemoveTemps(dir, "e", "../x"); err == nil {
		t.Error("RemoveTemps accepted a bad run id")
	}
}

// Files written before grid_index and final_sink_slot existed read back with
// GridIndex -1 and FinalSinkSlot NaN, and their other columns unchanged.
func TestReadOlderRuns(t *testing.T) {
	dir := t.TempDir()
	r := testRun("0123456789abcdef", "old")
	if err := Write(dir, r, nil, nil); err != nil {
		t.Fatal(err)
	}
	rewriteColumns(t, Path(dir, TableRuns, r.Experiment, r.ID), r, func(f arrow.Field) (arrow.Field, bool) {
		return f, f.Name != "grid_index" && f.Name != "final_sink_slot"
	})
	runs, err := ReadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	want := r
	want.GridIndex = -1
	want.SetFinal("final_sink_slot", math.NaN(), true)
	equalRun(t, runs[0], want)
}

func TestMapsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := testRun("0123456789abcdef", "sig moid/z")
	maps := []Map{
		{RunID: r.ID, Step: 120, Layer: 0, Head: 1, Query: 0, Key: -1, Weight: 0.75},
		{RunID: r.ID, Step: 120, Layer: 0, Head: 1, Query: 0, Key: 0, Weight: 0.25},
		{RunID: r.ID, Step: 120, Layer: 1, Head: 0, Query: 1, Key: 1, Weight: 0.5},
	}
	if err := WriteWithMaps(dir, r, testMetrics(r.ID), testHeads(r.ID), maps); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMaps(dir, r.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, maps) {
		t.Errorf("ReadMaps = %+v, want %+v", got, maps)
	}
	checkFile(t, Path(dir, TableMaps, r.Experiment, r.ID), map[string]string{
		KeyConfig: r.ConfigJSON, KeyConfigHash: "abc123", KeyVersion: "0.1.0",
		KeyGitRevision: "deadbeef", KeyRunID: r.ID,
	})
	// Rewriting the run without maps removes its maps file.
	if err := Write(dir, r, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Path(dir, TableMaps, r.Experiment, r.ID)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("maps file after Write without maps: %v", err)
	}
	if got, err := ReadMaps(dir, r.Experiment); err != nil || len(got) != 0 {
		t.Errorf("ReadMaps after rewrite = %v, %v; want no rows", got, err)
	}
}

// NewRun fills a run's identity from its config and leaves every
// measurement unknown, which is written as NULL and read back as unknown.
func TestNewRun(t *testing.T) {
	cfg := config.Default()
	cfg.Experiment, cfg.Seed, cfg.Index = "fresh", 3, 5
	cfg.Varied = []config.Setting{{Path: "model.position", Value: "rope"}}
	started := time.Date(2025, 5, 6, 7, 8, 9, 0, time.FixedZone("CET", 3600))
	r := NewRun(cfg, "go", started)
	if r.ID != cfg.ID() || r.Experiment != "fresh" || r.GridIndex != 5 || r.Backend != "go" ||
		r.ConfigHash != cfg.Hash() || r.ConfigJSON != cfg.JSON() || r.ToolVersion != config.Version ||
		!reflect.DeepEqual(r.Settings, config.Flatten(cfg)) || !reflect.DeepEqual(r.Varied, cfg.Varied) {
		t.Errorf("identity: %+v", r)
	}
	if r.Status != "" || r.DivergedStep != -1 || !r.StartedAt.Equal(started) || r.StartedAt.Location() != time.UTC {
		t.Errorf("status %q, diverged step %d, started %v", r.Status, r.DivergedStep, r.StartedAt)
	}
	r.Status, r.Error = StatusFailed, "no data"
	dir := t.TempDir()
	if err := Write(dir, r, nil, nil); err != nil {
		t.Fatal(err)
	}
	runs, err := ReadRuns(dir)
	if err != nil || len(runs) != 1 {
		t.Fatalf("ReadRuns: %v, %v", runs, err)
	}
	r.ConfigJSON = runs[0].ConfigJSON // from the footer
	equalRun(t, runs[0], r)
	vs := []float64{r.WallSeconds, r.MsPerStep}
	for _, c := range config.FinalColumns() {
		vs = append(vs, r.Final(c.Name).Value)
	}
	for _, v := range vs {
		if !math.IsNaN(v) {
			t.Errorf("a measurement of a new run is %v, want NaN", v)
		}
	}
}

// A file whose columns lack one of ours, or hold another type, is an error
// that names the column.
func TestReadRejectsForeignColumns(t *testing.T) {
	r := testRun("0123456789abcdef", "e")
	for _, tc := range []struct {
		name, table, column string
		replace             arrow.Field // Name "" drops the column
		want                string
	}{
		{"metric k as int64", TableMetrics, "k", arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, `column "k" has type int64, want int32`},
		{"heads without alpha", TableHeads, "alpha", arrow.Field{}, `missing column "alpha"`},
		{"status as int64", TableRuns, "status", arrow.Field{Name: "status", Type: arrow.PrimitiveTypes.Int64}, `column "status" has type int64, want utf8`},
		{"started_at as string", TableRuns, "started_at", arrow.Field{Name: "started_at", Type: arrow.BinaryTypes.String}, `column "started_at" has type utf8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Write(dir, r, testMetrics(r.ID), testHeads(r.ID)); err != nil {
				t.Fatal(err)
			}
			p := Path(dir, tc.table, r.Experiment, r.ID)
			rewriteColumns(t, p, r, func(f arrow.Field) (arrow.Field, bool) {
				if f.Name != tc.column {
					return f, true
				}
				return tc.replace, tc.replace.Name != ""
			})
			var err error
			switch tc.table {
			case TableRuns:
				_, err = ReadRuns(dir)
			case TableMetrics:
				_, err = ReadMetrics(dir, r.Experiment)
			case TableHeads:
				_, err = ReadHeads(dir, r.Experiment)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("read: %v, want an error about %s in %s", err, tc.want, p)
			}
		})
	}
}

// rewriteColumns rewrites the file at path (of run r) with its columns passed
// through change: a column is dropped where change says false, and refilled
// with empty values where change gives it another field.
func rewriteColumns(t *testing.T, path string, r Run, change func(arrow.Field) (arrow.Field, bool)) {
	t.Helper()
	tbl := openTable(t, path)
	mem := memory.NewGoAllocator()
	var fields []arrow.Field
	var cols []arrow.Array
	for i, f := range tbl.Schema().Fields() {
		g, keep := change(f)
		if !keep {
			continue
		}
		col := tbl.Column(i).Data().Chunk(0)
		if !g.Equal(f) {
			b := array.NewBuilder(mem, g.Type)
			defer b.Release()
			b.AppendEmptyValues(int(tbl.NumRows()))
			col = b.NewArray()
			defer col.Release()
		}
		fields = append(fields, g)
		cols = append(cols, col)
	}
	md := footer(r)
	rec := array.NewRecord(arrow.NewSchema(fields, &md), cols, tbl.NumRows())
	defer rec.Release()
	if err := writeFile(mem, path, rec); err != nil {
		t.Fatal(err)
	}
}

package table

import (
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sinkrun/sinkrun/config"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated sections of docs/results.md")

const (
	resultsDoc   = "../../docs/results.md"
	regenerateIt = "go test ./results/table -run TestSchemaDocs -update  (or SINKRUN_UPDATE_DOCS=1)"
)

// TestSchemaDocs fails when a column reference of docs/results.md (between
// "<!-- BEGIN GENERATED: x -->" and "<!-- END GENERATED: x -->") differs from
// the column lists of schema.go. Regenerate with -update.
func TestSchemaDocs(t *testing.T) {
	raw, err := os.ReadFile(resultsDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, s := range []struct{ name, text string }{
		{"runs columns", columnsMarkdown(t, runsColumns, settingsAfter)},
		{"metrics columns", columnsMarkdown(t, metricsColumns, -1)},
		{"metric names", metricsMarkdown()},
		{"heads columns", columnsMarkdown(t, headsColumns, -1)},
		{"maps columns", columnsMarkdown(t, mapsColumns, -1)},
	} {
		begin, end := "<!-- BEGIN GENERATED: "+s.name+" -->\n", "<!-- END GENERATED: "+s.name+" -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Errorf("%s: markers %q and %q not found", resultsDoc, begin, end)
			continue
		}
		if doc[i+len(begin):j] == s.text {
			continue
		}
		if *updateDocs || os.Getenv("SINKRUN_UPDATE_DOCS") != "" {
			doc = doc[:i+len(begin)] + s.text + doc[j:]
			continue
		}
		t.Errorf("%s: the %s are out of date; run: %s\nwant:\n%s", resultsDoc, s.name, regenerateIt, s.text)
	}
	if string(raw) != doc {
		if err := os.WriteFile(resultsDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", resultsDoc)
	}
}

// columnsMarkdown is the reference table of a table's columns; settingsAt >= 0
// puts the row of the setting columns after that many columns.
func columnsMarkdown[R any](t *testing.T, cols []column[R], settingsAt int) string {
	var b strings.Builder
	b.WriteString("| column | DuckDB type | Parquet type | NULL | meaning |\n| --- | --- | --- | --- | --- |\n")
	for i, c := range cols {
		if i == settingsAt {
			b.WriteString("| *settings* | BIGINT / DOUBLE / BOOLEAN / VARCHAR | INT64 / DOUBLE / BOOLEAN / STRING | no | one column per resolved setting |\n")
		}
		duck, pq := docTypes(t, c.typ)
		null := "no"
		if c.nullable {
			null = "yes"
		}
		b.WriteString("| `" + c.name + "` | " + duck + " | " + pq + " | " + null + " | " + c.doc + " |\n")
	}
	return b.String()
}

// docTypes is how DuckDB shows an Arrow type read from our Parquet files,
// and the Parquet physical and logical type it is stored as.
func docTypes(t *testing.T, typ arrow.DataType) (duck, parquet string) {
	switch typ.ID() {
	case arrow.STRING:
		return "VARCHAR", "BYTE_ARRAY STRING"
	case arrow.INT64:
		return "BIGINT", "INT64"
	case arrow.INT32:
		return "INTEGER", "INT32"
	case arrow.FLOAT64:
		return "DOUBLE", "DOUBLE"
	case arrow.BOOL:
		return "BOOLEAN", "BOOLEAN"
	case arrow.TIMESTAMP:
		if ts := typ.(*arrow.TimestampType); ts.Unit == arrow.Microsecond && ts.TimeZone == "UTC" {
			return "TIMESTAMP WITH TIME ZONE", "INT64 TIMESTAMP(MICROS, UTC)"
		}
	}
	t.Fatalf("no documented type for %s", typ)
	return "", ""
}

// metricsMarkdown lists the metrics of the metrics table (the metric
// catalogue): the coordinate columns each sets and its unit, linked to its
// definition in docs/metrics.md.
func metricsMarkdown() string {
	var b strings.Builder
	b.WriteString("| `metric` | set columns | unit | definition |\n| --- | --- | --- | --- |\n")
	for _, m := range config.Metrics() {
		if m.Table != config.MetricsTable {
			continue
		}
		b.WriteString("| `" + m.Name + "` | " + strings.Join(quoted(m.Coords), ", ") + " | " + m.Unit +
			" | [" + m.Title + "](metrics.md#" + m.Name + ") |\n")
	}
	return b.String()
}

// TestCatalogueTables: every metric of the catalogue has its place in its
// table: the metrics table has a column for each of its coordinates; the
// heads table a column named after the metric and one per coordinate.
func TestCatalogueTables(t *testing.T) {
	tables := map[string]map[string]bool{config.MetricsTable: columnNames(metricsColumns), config.HeadsTable: columnNames(headsColumns)}
	for _, name := range config.MetricTables() {
		if tables[name] == nil {
			t.Errorf("the catalogue stores metrics in table %q, which this package does not write", name)
		}
	}
	for _, m := range config.Metrics() {
		cols := tables[m.Table]
		if m.Table == config.HeadsTable {
			if !cols[m.Name] {
				t.Errorf("%s: the heads table has no column %q", m.Name, m.Name)
			}
		}
		for _, c := range m.Coords {
			if !cols[c] {
				t.Errorf("%s: the %s table has no column for its coordinate %q", m.Name, m.Table, c)
			}
		}
		if m.Table == config.MetricsTable {
			// Every coordinate goes to its column and comes back.
			at := config.Point{}
			for i, c := range m.Coords {
				if co, _ := config.CoordNamed(c); co.Kind == config.CoordInt {
					at[c] = i + 1
				} else {
					at[c] = 0.5 + float64(i)
				}
			}
			v := config.MetricValue{Metric: m.Name, At: at, Value: 2.5, Proxy: m.Proxy}
			got := MetricRow("r", 3, 30, v).StepValue()
			if got.Step != 3 || !reflect.DeepEqual(got.MetricValue, v) {
				t.Errorf("%s: MetricRow and back: %+v, want %+v", m.Name, got, v)
			}
		}
	}
	cols := columnNames(runsColumns)
	for _, f := range config.FinalColumns() {
		if !cols[f.Name] || (f.ProxyColumn != "" && !cols[f.ProxyColumn]) {
			t.Errorf("the runs table lacks %s or its proxy column %q", f.Name, f.ProxyColumn)
		}
	}
}

// Every status is documented.
func TestStatusDocumented(t *testing.T) {
	if got, want := statusDoc(), "`done`, `diverged` (the loss became NaN or Inf: a result, not a crash) or `failed` (an error)"; got != want {
		t.Errorf("statusDoc() = %q, want %q", got, want)
	}
}

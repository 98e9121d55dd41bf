package layers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const (
	module = "github.com/sinkrun/sinkrun/"
	doc    = "../../docs/architecture.md"
)

// outside names the modules outside sinkrun in the tables, by import path
// prefix; an import of any other module fails the test until it is named.
var outside = []struct{ prefix, name string }{
	{"github.com/gomlx/", "GoMLX"},
	{"github.com/apache/arrow/", "Arrow"},
	{"github.com/olekukonko/tablewriter", "tablewriter"},
	{"github.com/alecthomas/participle/", "participle"},
	{"gonum.org/v1/plot", "gonum/plot"},
	{"golang.org/x/text", "x/text"},
	{"golang.org/x/term", "x/term"},
	{"github.com/aymanbagabas/go-udiff", "go-udiff"},
}

// pkg is what go list says of one package.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// goList lists the module's packages with their imports and dependencies.
func goList(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	return pkgs
}

// name is how the tables name an imported package: its path in the module,
// the name of its outside module, or "" for the standard library.
func name(t *testing.T, path string) string {
	if rest, ok := strings.CutPrefix(path, module); ok {
		return rest
	}
	if first, _, _ := strings.Cut(path, "/"); !strings.Contains(first, ".") {
		return "" // the standard library
	}
	for _, o := range outside {
		if strings.HasPrefix(path, o.prefix) {
			return o.name
		}
	}
	t.Errorf("import %s is of a module the tables do not name: add it to outside and to docs/architecture.md", path)
	return path
}

// depName is name for a package any dependency may pull in: "" for the
// standard library; modules the tables do not name keep their path.
func depName(path string) string {
	if rest, ok := strings.CutPrefix(path, module); ok {
		return rest
	}
	if first, _, _ := strings.Cut(path, "/"); !strings.Contains(first, ".") {
		return ""
	}
	for _, o := range outside {
		if strings.HasPrefix(path, o.prefix) {
			return o.name
		}
	}
	return path
}

// table reads the Markdown table after marker: its rows as cells by header.
func table(t *testing.T, text, marker string) []map[string]string {
	t.Helper()
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("%s: no %q", doc, marker)
	}
	sc := bufio.NewScanner(strings.NewReader(text[i+len(marker):]))
	var header []string
	var rows []map[string]string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" && header == nil {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		switch {
		case header == nil:
			header = cells
		case strings.HasPrefix(cells[0], "---"):
		default:
			row := map[string]string{}
			for j, h := range header {
				if j < len(cells) {
					row[h] = cells[j]
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// names splits a cell of names: "`config`, `dsl`, GoMLX".
func names(cell string) []string {
	var out []string
	for _, n := range strings.Split(cell, ",") {
		if n = strings.Trim(strings.TrimSpace(n), "`"); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func TestPackageTables(t *testing.T) {
	raw, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	pkgs := goList(t)
	main := table(t, text, "<!-- packages: checked by test/layers -->")
	tests := table(t, text, "<!-- test packages: checked by test/layers -->")

	listed := map[string]int{} // package -> row in the main table (-1: test table)
	var order []string
	for i, r := range main {
		p := strings.Trim(r["package"], "`")
		if _, dup := listed[p]; dup {
			t.Errorf("%s is listed twice", p)
		}
		listed[p] = i
		order = append(order, p)
	}
	for _, r := range tests {
		p := strings.Trim(r["package"], "`")
		if _, dup := listed[p]; dup {
			t.Errorf("%s is listed twice", p)
		}
		listed[p] = -1
	}
	for p := range pkgs {
		if _, ok := listed[p]; !ok {
			t.Errorf("%s (go list) is not in the tables of %s", p, doc)
		}
	}
	for p := range listed {
		if _, ok := pkgs[p]; !ok {
			t.Errorf("%s is in the tables but not a package of the module", p)
		}
	}

	for _, r := range append(slices.Clone(main), tests...) {
		p := strings.Trim(r["package"], "`")
		info, ok := pkgs[p]
		if !ok {
			continue
		}
		if r["job"] == "" {
			t.Errorf("%s: no job", p)
		}
		var own, ext []string
		for _, imp := range info.Imports {
			n := name(t, imp)
			switch {
			case n == "":
			case strings.HasPrefix(imp, module):
				own = append(own, n)
			case !slices.Contains(ext, n):
				ext = append(ext, n)
			}
		}
		slices.Sort(own)
		slices.Sort(ext)
		if want := sorted(names(r["imports (sinkrun)"])); !slices.Equal(own, want) {
			t.Errorf("%s imports %v; the table says %v", p, own, want)
		}
		if want := sorted(names(r["imports (outside)"])); !slices.Equal(ext, want) {
			t.Errorf("%s imports the outside modules %v; the table says %v", p, ext, want)
		}
		// The layer order: an import points down the main table.
		at := listed[p]
		for _, imp := range own {
			switch to, ok := listed[imp]; {
			case !ok:
			case to < 0:
				t.Errorf("%s imports %s, a package only tests may import", p, imp)
			case at >= 0 && to <= at:
				t.Errorf("%s imports %s, which the table lists above it: an import that runs back up", p, imp)
			}
		}
	}

	for _, r := range table(t, text, "<!-- kept out: checked by test/layers -->") {
		p := strings.Trim(r["package"], "`")
		info, ok := pkgs[p]
		if !ok {
			t.Errorf("kept out: %s is not a package", p)
			continue
		}
		var deps []string
		for _, d := range info.Deps {
			if n := depName(d); n != "" && !slices.Contains(deps, n) {
				deps = append(deps, n)
			}
		}
		rule := r["never depends on"]
		if rule == "any other sinkrun package" {
			for _, d := range info.Deps {
				if strings.HasPrefix(d, module) {
					t.Errorf("%s depends on %s; the table says on no other sinkrun package", p, d)
				}
			}
			continue
		}
		for _, banned := range names(rule) {
			for _, d := range deps {
				if d == banned || strings.HasSuffix(banned, "/...") && strings.HasPrefix(d, strings.TrimSuffix(banned, "...")) {
					t.Errorf("%s depends on %s; the table says it never depends on %s", p, d, banned)
				}
			}
		}
	}
	if len(order) == 0 || order[len(order)-1] == "" {
		t.Error("empty package table")
	}
}

func sorted(xs []string) []string {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	if xs == nil {
		return nil
	}
	return xs
}

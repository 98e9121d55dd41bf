package compiler

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func names(exps []*Experiment) []string {
	var out []string
	for _, x := range exps {
		out = append(out, x.Name)
	}
	return out
}

func TestImports(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"bases/base.sink": `
import "common.sink"
experiment base extends common {
  data { corpus files(paths: ["data/*.txt"]) }   # relative to bases/
}
`,
		"bases/common.sink": `
experiment common { model { layers 2 } }
experiment unfinished { data { corpus files } }  # not complete: fine, it never runs
`,
		"exp/a.sink": `
import "../bases/base.sink"
import "../bases/common.sink"   # already imported through base.sink: loaded once
experiment a extends base {
  vary model.heads [2, 4]
}
`,
		"exp/b.sink": `
import "../bases/base.sink"
experiment b extends base { data { corpus files(paths: ["mine.txt"]) } }
`,
	})
	a := filepath.Join(dir, "exp/a.sink")
	b := filepath.Join(dir, "exp/b.sink")
	exps, err := CompileFiles([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	// Imported experiments are parents only: they do not run.
	if got := names(exps); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("experiments %v", got)
	}
	ra := exps[0].Runs[0]
	if len(exps[0].Runs) != 2 || ra.Model.Layers != 2 || ra.SourceDir != filepath.Join(dir, "exp") {
		t.Errorf("a: %d runs, %+v, source dir %s", len(exps[0].Runs), ra.Model, ra.SourceDir)
	}
	// An inherited relative data path stays relative to the file that wrote it.
	if !reflect.DeepEqual(ra.Data.Corpus.Paths, []string{"../bases/data/*.txt"}) {
		t.Errorf("inherited paths %q", ra.Data.Corpus.Paths)
	}
	if rb := exps[1].Runs[0]; !reflect.DeepEqual(rb.Data.Corpus.Paths, []string{"mine.txt"}) {
		t.Errorf("own paths %q", rb.Data.Corpus.Paths)
	}

	// Named on the command line too, an imported file's experiments run
	// (once), and then they are checked as runs.
	exps, err = CompileFiles([]string{a, filepath.Join(dir, "bases/../bases/base.sink")})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(exps); !reflect.DeepEqual(got, []string{"a", "base"}) {
		t.Errorf("experiments %v", got)
	}
	_, err = CompileFiles([]string{filepath.Join(dir, "bases/common.sink")})
	if err == nil || !strings.Contains(err.Error(), "files needs at least one path") {
		t.Errorf("root common.sink: %v", err)
	}
}

func TestImportErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.sink":       "import \"b.sink\"\nexperiment a {}\n",
		"b.sink":       "import \"c.sink\"\nexperiment b {}\n",
		"c.sink":       "import \"a.sink\"\nexperiment c {}\n",
		"self.sink":    "import \"self.sink\"\n",
		"missing.sink": "import \"nope/x.sink\"\nexperiment m extends x {}\n",
		"twice.sink":   "import \"leaf.sink\"\nimport \"./leaf.sink\"\n",
		"leaf.sink":    "",
		"bad.sink":     "import \"broken.sink\"\nexperiment ok extends broken {}\n",
		"broken.sink":  "experiment broken {\n  model { layrs 2 }\n}\n",
		"dir.sink":     "import \"sub\"\n",
		"sub/x":        "",
		"empty.sink":   "import \"\"\n",
	})
	for _, tc := range []struct{ file, want string }{
		{"a.sink", "c.sink:1:8: import cycle: " + dir + "/a.sink -> " + dir + "/b.sink -> " + dir + "/c.sink -> " + dir + "/a.sink"},
		{"self.sink", "self.sink:1:8: import cycle: " + dir + "/self.sink -> " + dir + "/self.sink"},
		{"missing.sink", "missing.sink:1:8: cannot import \"nope/x.sink\": " + dir + "/nope/x.sink: no such file"},
		{"twice.sink", "twice.sink:2:8: \"./leaf.sink\" is already imported at line 1"},
		{"bad.sink", "broken.sink:2:11: unknown setting \"layrs\" in the model block (did you mean \"layers\"?)"},
		{"dir.sink", "dir.sink:1:8: cannot import \"sub\": " + dir + "/sub: is a directory"},
		{"empty.sink", "empty.sink:1:8: import: the file name is empty"},
	} {
		_, err := CompileFiles([]string{filepath.Join(dir, tc.file)})
		l := asList(err)
		if len(l) != 1 || !strings.HasSuffix(l[0].Error(), tc.want) {
			t.Errorf("%s: got %v\nwant %s", tc.file, err, tc.want)
		}
	}
	// An error in an imported file is shown with its source line, though the
	// caller only read the file it named.
	_, err := CompileFiles([]string{filepath.Join(dir, "bad.sink")})
	got := FormatErrors(err, nil)
	if !strings.Contains(got, "\n      model { layrs 2 }\n              ^\n") {
		t.Errorf("FormatErrors:\n%s", got)
	}
	// Compile from memory imports among the map's files.
	exps, err := Compile(map[string][]byte{
		"x/a.sink":    []byte("import \"../lib/b.sink\"\nexperiment a extends b {}\n"),
		"lib/b.sink":  []byte("experiment b { model { layers 3 } }\n"),
		"lib/c.sink":  []byte("import \"missing.sink\"\n"),
		"lib/ok.sink": []byte(""),
	})
	if err == nil || err.Error() != `lib/c.sink:1:8: cannot import "missing.sink": lib/missing.sink: no such file` || exps != nil {
		t.Errorf("map: %v", err)
	}
	exps, err = compileMap(map[string][]byte{
		"x/a.sink":   []byte("import \"../lib/b.sink\"\nexperiment a extends b {}\n"),
		"lib/b.sink": []byte("experiment b { model { layers 3 } }\n"),
	}, []string{"x/a.sink"})
	if err != nil || len(exps) != 1 || exps[0].Runs[0].Model.Layers != 3 {
		t.Errorf("map roots: %v %v", exps, err)
	}
}

func TestVariants(t *testing.T) {
	exps := compileOne(t, `
experiment a {
  model { layers 2; attention sigmoid }
  train { seeds [1, 2] }
  vary model.heads [2, 4]
  variants {
    baseline {}
    sum      { model { attention sigmoid(z: sum) } }
    small_lr { train { optimizer adamw(lr: 1e-4) }; model { layers 1 } }
  }
}
experiment b extends a {
  model { layers 3 }   # applies before the variants: small_lr still has 1 layer
}
experiment c extends a {
  variants { only { model { d_model 64 } } }   # replaces the parent's variants, in place
  vary model.tied [false, true]
}`)
	a := exps[0]
	if !reflect.DeepEqual(a.Axes, []string{"model.heads", "variant"}) || len(a.Runs) != 2*3*2 {
		t.Fatalf("a: axes %v, %d runs", a.Axes, len(a.Runs))
	}
	var got []string
	for _, r := range a.Runs {
		if r.Seed == 1 {
			got = append(got, varied(r))
		}
	}
	want := []string{
		"model.heads=2 variant=baseline", "model.heads=2 variant=sum", "model.heads=2 variant=small_lr",
		"model.heads=4 variant=baseline", "model.heads=4 variant=sum", "model.heads=4 variant=small_lr",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order %q", got)
	}
	base, sum, small := a.Runs[0], a.Runs[2], a.Runs[4]
	if base.Model.Attention.Z != "one" || base.Model.Layers != 2 || base.Train.Optimizer.LR != 1e-3 {
		t.Errorf("baseline %+v", base)
	}
	if sum.Model.Attention.Z != "sum" || sum.Model.Layers != 2 {
		t.Errorf("sum %+v", sum.Model)
	}
	if small.Train.Optimizer.LR != 1e-4 || small.Model.Layers != 1 || small.Model.Attention.Op != "sigmoid" {
		t.Errorf("small_lr %+v %+v", small.Model, small.Train.Optimizer)
	}
	b := exps[1]
	if len(b.Runs) != 12 || b.Runs[0].Model.Layers != 3 || b.Runs[4].Model.Layers != 1 || varied(b.Runs[4]) != "model.heads=2 variant=small_lr" {
		t.Errorf("b: %d runs, layers %d %d", len(b.Runs), b.Runs[0].Model.Layers, b.Runs[4].Model.Layers)
	}
	c := exps[2]
	if !reflect.DeepEqual(c.Axes, []string{"model.heads", "variant", "model.tied"}) || len(c.Runs) != 2*1*2*2 || c.Runs[0].Model.DModel != 64 {
		t.Errorf("c: axes %v, %d runs", c.Axes, len(c.Runs))
	}
}

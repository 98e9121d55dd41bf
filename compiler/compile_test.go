package compiler

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

func compileOne(t *testing.T, src string) []*Experiment {
	t.Helper()
	exps, err := Compile(map[string][]byte{"dir/test.sink": []byte(src)})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return exps
}

func find(t *testing.T, exps []*Experiment, name string) *Experiment {
	t.Helper()
	for _, x := range exps {
		if x.Name == name {
			return x
		}
	}
	t.Fatalf("no experiment %q", name)
	return nil
}

func varied(r config.Run) string {
	var parts []string
	for _, s := range r.Varied {
		parts = append(parts, s.Path+"="+s.Value)
	}
	return strings.Join(parts, " ")
}

func TestQuickstartValues(t *testing.T) {
	src, err := os.ReadFile("testdata/ok/quickstart.sink")
	if err != nil {
		t.Fatal(err)
	}
	exps := compileOne(t, string(src))
	if len(exps) != 2 {
		t.Fatalf("got %d experiments", len(exps))
	}
	q := exps[0]
	if q.Name != "quickstart" || q.File != "dir/test.sink" || q.Pos.Line != 2 || q.Pos.Col != 1 {
		t.Errorf("experiment header: %+v", q)
	}
	wantAxes := []string{"model.attention", "train.optimizer.lr", "model.position", "data.context"}
	if !reflect.DeepEqual(q.Axes, wantAxes) {
		t.Errorf("axes = %v, want %v", q.Axes, wantAxes)
	}
	// 3 attention x 2 lr x 2 zipped (position, context) x 2 seeds.
	if len(q.Runs) != 24 {
		t.Fatalf("got %d runs, want 24", len(q.Runs))
	}
	want := config.Default()
	want.Experiment = "quickstart"
	want.Model.Layers, want.Model.Heads, want.Model.DModel = 2, 4, 64
	want.Model.Vocab = 256
	want.Model.FFN = config.FFN{Kind: "swiglu", Hidden: 172}
	want.Model.Attention.Op, want.Model.Attention.Z = "softmax", "one"
	want.Data.Corpus.Kind = "files"
	want.Data.Corpus.Paths = []string{"data/*.txt"}
	want.Data.Context = 64
	want.Data.FirstToken = config.FirstToken{Kind: "fixed", Token: 0}
	want.Train.Steps, want.Train.Batch = 600, 32
	want.Train.Optimizer = config.Optimizer{Kind: "adamw", LR: 1e-3, Betas: []float64{0.9, 0.95}, Eps: 1e-8, WeightDecay: 0.1, Clip: 1.0, Decay: "all"}
	want.Train.Schedule = config.Schedule{Kind: "cosine", Warmup: 50, MinLR: 0.1}
	want.Train.Seeds = []int64{1, 2}
	want.Measure.Every = 100
	want.Measure.Eps = []float64{0.3}
	want.Measure.Sink = []int{1, 2}
	want.Seed = 1
	want.SourceDir = "dir"
	want.Varied = []config.Setting{{Path: "model.attention", Value: "softmax"}, {Path: "train.optimizer.lr", Value: "0.001"}, {Path: "model.position", Value: "rope"}, {Path: "data.context", Value: "64"}}
	if got := q.Runs[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("first run:\n got %+v\nwant %+v", got, want)
	}
	last := q.Runs[23]
	if a := last.Model.Attention; a.Op != "sigmoid" || a.Z != "sum" || last.Train.Optimizer.LR != 3e-3 ||
		last.Model.Position.Kind != "nope" || last.Data.Context != 128 || last.Seed != 2 {
		t.Errorf("last run: %+v", last)
	}
	if got := varied(last); got != "model.attention=sigmoid(z: sum) train.optimizer.lr=0.003 model.position=nope data.context=128" {
		t.Errorf("last varied = %s", got)
	}
	// The child inherits everything, including the axes, and overrides layers.
	b := exps[1]
	if b.Name != "bigger" || len(b.Runs) != 24 || !reflect.DeepEqual(b.Axes, wantAxes) {
		t.Fatalf("bigger: %d runs, axes %v", len(b.Runs), b.Axes)
	}
	for i, r := range b.Runs {
		if r.Model.Layers != 4 || r.Experiment != "bigger" || r.Model.DModel != 64 {
			t.Errorf("bigger run %d: %+v", i, r.Model)
		}
		if varied(r) != varied(q.Runs[i]) || r.Seed != q.Runs[i].Seed {
			t.Errorf("bigger run %d varied %s, want %s", i, varied(r), varied(q.Runs[i]))
		}
	}
}

func TestGridOrder(t *testing.T) {
	exps := compileOne(t, `
experiment g {
  train { seeds [7, 8] }
  vary model.layers [1, 2, 3]
  vary zip { model.heads [2, 4]; model.d_model [32, 64] }
  vary model.tied [false, true]
}`)
	g := exps[0]
	if len(g.Runs) != 3*2*2*2 {
		t.Fatalf("got %d runs", len(g.Runs))
	}
	var got []string
	for _, r := range g.Runs {
		if r.Seed == 7 {
			got = append(got, varied(r))
		}
	}
	want := []string{}
	for _, l := range []string{"1", "2", "3"} {
		for _, hd := range [][2]string{{"2", "32"}, {"4", "64"}} {
			for _, tied := range []string{"false", "true"} {
				want = append(want, "model.layers="+l+" model.heads="+hd[0]+" model.d_model="+hd[1]+" model.tied="+tied)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
	// Seeds vary fastest.
	if g.Runs[0].Seed != 7 || g.Runs[1].Seed != 8 || varied(g.Runs[0]) != varied(g.Runs[1]) {
		t.Errorf("seeds not innermost")
	}
	for _, r := range g.Runs {
		if !reflect.DeepEqual(r.Train.Seeds, []int64{7, 8}) {
			t.Errorf("Train.Seeds = %v", r.Train.Seeds)
		}
	}
	// No axes: one run per seed.
	one := compileOne(t, "experiment one {}\n")[0]
	if len(one.Runs) != 1 || one.Runs[0].Seed != 1 || len(one.Axes) != 0 || one.Runs[0].Varied != nil {
		t.Errorf("plain experiment: %+v", one)
	}
}

func TestRunIDs(t *testing.T) {
	src, _ := os.ReadFile("testdata/ok/quickstart.sink")
	a := compileOne(t, string(src))
	b := compileOne(t, string(src))
	seen := map[string]bool{}
	for i := range a {
		for j := range a[i].Runs {
			id := a[i].Runs[j].ID()
			if id != b[i].Runs[j].ID() {
				t.Errorf("run id not stable: %s vs %s", id, b[i].Runs[j].ID())
			}
			if seen[id] {
				t.Errorf("duplicate run id %s", id)
			}
			seen[id] = true
		}
	}
	// Runs share no memory: changing one must not change another.
	a[0].Runs[0].Train.Optimizer.Betas[0] = 0.5
	a[0].Runs[0].Data.Corpus.Paths[0] = "x"
	if a[0].Runs[1].Train.Optimizer.Betas[0] != 0.9 || a[0].Runs[1].Data.Corpus.Paths[0] != "data/*.txt" {
		t.Error("runs share slices")
	}
}

func TestInheritance(t *testing.T) {
	files := map[string][]byte{
		"base/a.sink": []byte(`
experiment base {
  model { attention sigmoid(z: sum); layers 3 }
  vary model.position [rope, nope]
  vary train.optimizer.lr [1e-3, 1e-4]
}`),
		"z.sink": []byte(`
experiment child extends base {
  model { attention sigmoid }           # a constructor value starts from defaults: z is one again
  vary train.optimizer.lr [3e-4]        # replaces the parent's lr axis in place
  vary model.tied [false, true]         # a new axis goes last
}
experiment grandchild extends child {
  model { layers 5 }
  vary model.position [nope]
}`),
	}
	exps, err := Compile(files)
	if err != nil {
		t.Fatal(err)
	}
	// Files are compiled in name order: base/a.sink, then z.sink.
	if len(exps) != 3 || exps[0].Name != "base" || exps[1].Name != "child" {
		t.Fatalf("experiments: %v", exps)
	}
	child := find(t, exps, "child")
	if !reflect.DeepEqual(child.Axes, []string{"model.position", "train.optimizer.lr", "model.tied"}) {
		t.Errorf("child axes %v", child.Axes)
	}
	if len(child.Runs) != 4 {
		t.Fatalf("child runs %d", len(child.Runs))
	}
	r := child.Runs[0]
	if r.Model.Attention.Z != "one" || r.Model.Attention.Op != "sigmoid" || r.Model.Layers != 3 || r.Train.Optimizer.LR != 3e-4 {
		t.Errorf("child run: %+v %+v", r.Model, r.Train.Optimizer)
	}
	if r.SourceDir != "." || find(t, exps, "base").Runs[0].SourceDir != "base" {
		t.Errorf("source dirs: %q", r.SourceDir)
	}
	base := find(t, exps, "base")
	if base.Runs[0].Model.Attention.Z != "sum" {
		t.Errorf("parent changed by child: %+v", base.Runs[0].Model.Attention)
	}
	gc := find(t, exps, "grandchild")
	if len(gc.Runs) != 2 || gc.Runs[0].Model.Layers != 5 || gc.Runs[0].Model.Position.Kind != "nope" {
		t.Errorf("grandchild: %d runs, %+v", len(gc.Runs), gc.Runs[0].Model)
	}
}

func TestVocabAndConstructors(t *testing.T) {
	exps := compileOne(t, `
experiment bb {
  data { corpus bigram_backcopy(vocab: 32, triggers: 2); first_token fixed(token: 31) }
  model { ffn relu; position rope(base: 5e5) }
  vary model.ffn [gelu, swiglu(hidden: 96)]
}
experiment explicit {
  model { vocab 300; head_dim 16; heads 3; d_model 50 }  // head_dim set: heads need not divide d_model
}`)
	bb := exps[0]
	for _, r := range bb.Runs {
		if r.Model.Vocab != 32 || r.Data.Corpus.Triggers != 2 || r.Data.Corpus.Successors != 3 {
			t.Errorf("bb run: %+v %+v", r.Model, r.Data.Corpus)
		}
		if r.Model.Position.Base != 5e5 {
			t.Errorf("base %v", r.Model.Position.Base)
		}
	}
	if bb.Runs[0].Model.FFN != (config.FFN{Kind: "gelu"}) || bb.Runs[1].Model.FFN != (config.FFN{Kind: "swiglu", Hidden: 96}) {
		t.Errorf("ffn: %+v %+v", bb.Runs[0].Model.FFN, bb.Runs[1].Model.FFN)
	}
	if v := exps[1].Runs[0].Model.Vocab; v != 300 {
		t.Errorf("explicit vocab %d", v)
	}
}

func TestValues(t *testing.T) {
	exps := compileOne(t, `
experiment v {
  model { init_std 1e-2; head_dim 32.0 }
  train {
    optimizer adamw(
      lr: .5,
      betas: [
        0.8,
        0.9,   # trailing comma
      ],
    )
    seeds [-1, 0, +3]
  }
  data { corpus files(paths: ["a \"quoted\" name.txt", "tab\there", "ü"]) }
}`)
	r := exps[0].Runs[0]
	if r.Model.InitStd != 0.01 || r.Model.HeadDim != 32 || r.Train.Optimizer.LR != 0.5 || !reflect.DeepEqual(r.Train.Optimizer.Betas, []float64{0.8, 0.9}) {
		t.Errorf("values: %+v %+v", r.Model, r.Train.Optimizer)
	}
	if !reflect.DeepEqual(r.Train.Seeds, []int64{-1, 0, 3}) || len(exps[0].Runs) != 3 || exps[0].Runs[2].Seed != 3 {
		t.Errorf("seeds %v", r.Train.Seeds)
	}
	if !reflect.DeepEqual(r.Data.Corpus.Paths, []string{`a "quoted" name.txt`, "tab\there", "ü"}) {
		t.Errorf("paths %q", r.Data.Corpus.Paths)
	}
}

func TestCompileFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.sink")
	if err := os.WriteFile(p, []byte("experiment x { model { layers 2 } }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exps, err := CompileFiles([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	if exps[0].Runs[0].SourceDir != dir || exps[0].File != p {
		t.Errorf("SourceDir %q, file %q", exps[0].Runs[0].SourceDir, exps[0].File)
	}
	_, err = CompileFiles([]string{filepath.Join(dir, "missing.sink")})
	if err == nil || !strings.Contains(err.Error(), "missing.sink") || !strings.Contains(err.Error(), "cannot read file") {
		t.Errorf("missing file: %v", err)
	}
	if _, ok := err.(ErrorList); !ok {
		t.Errorf("error type %T", err)
	}
}

func TestErrorListSortedAndFormatted(t *testing.T) {
	src := "experiment a {\n\tmodel { layers 0 }\n  data { contxt 3 }\n}\n"
	_, err := Compile(map[string][]byte{"f.sink": []byte(src)})
	l, ok := err.(ErrorList)
	if !ok || len(l) != 2 {
		t.Fatalf("err = %#v", err)
	}
	if l[0].Pos.Line != 2 || l[1].Pos.Line != 3 {
		t.Errorf("not sorted: %v", l)
	}
	if got := l[0].Error(); got != "f.sink:2:17: model.layers: must be between 1 and 256, found 0" {
		t.Errorf("error text %q", got)
	}
	got := FormatErrors(err, map[string][]byte{"f.sink": []byte(src)})
	want := "f.sink:2:17: model.layers: must be between 1 and 256, found 0\n" +
		"    \tmodel { layers 0 }\n" +
		"    \t               ^\n" +
		"f.sink:3:10: unknown setting \"contxt\" in the data block (did you mean \"context\"?)\n" +
		"      data { contxt 3 }\n" +
		"             ^\n"
	if got != want {
		t.Errorf("FormatErrors:\n%s\nwant:\n%s", got, want)
	}
	// Parse errors go through the same path.
	_, err = Compile(map[string][]byte{"g.sink": []byte("experiment {")})
	if s := FormatErrors(err, nil); !strings.HasPrefix(s, "g.sink:1:12: ") {
		t.Errorf("parse error: %q", s)
	}
}

func TestNoGoNamesInErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/errors/*.sink")
	for _, f := range files {
		src, _ := os.ReadFile(f)
		for _, chunk := range chunks(string(src)) {
			_, err := Compile(map[string][]byte{f: []byte(chunk)})
			for _, e := range asList(err) {
				for _, bad := range []string{"int64", "float64", "[]", "struct", "reflect", "config.", "dsl.", "participle", "Ident", "GValue", "<nl>", "panic"} {
					if strings.Contains(e.Msg, bad) {
						t.Errorf("%v: message names %q", e, bad)
					}
				}
			}
		}
	}
}

// A rebased experiment (extends STUDY on BASE) is STUDY's own settings,
// axes and claims written on BASE: the same runs as writing them out.
func TestRebase(t *testing.T) {
	exps := compileOne(t, `
experiment recipe { model { layers 1 } train { steps 10 } }
experiment deep extends recipe { model { layers 4 } train { steps 20; seeds [1, 2] } }
experiment study extends recipe {
  train { batch 8 }
  vary model.heads [1, 2]
  expect { sink_1[heads: 1] > 5 }
}
experiment study_more extends study { model { d_model 32 } }
experiment rebased extends study_more on deep {
  expect { sink_1[heads: 2] > 1 }
}
experiment written extends deep {
  train { batch 8 }
  vary model.heads [1, 2]
  model { d_model 32 }
}
`)
	rebased, written := find(t, exps, "rebased"), find(t, exps, "written")
	if len(rebased.Runs) != 4 || len(rebased.Runs) != len(written.Runs) {
		t.Fatalf("rebased has %d runs, written %d, want 4", len(rebased.Runs), len(written.Runs))
	}
	for i := range rebased.Runs {
		a, b := rebased.Runs[i], written.Runs[i]
		a.Experiment, b.Experiment = "", ""
		if a.ID() != b.ID() {
			t.Errorf("run %d: rebased %s\nwritten %s", i, a.JSON(), b.JSON())
		}
	}
	if got := rebased.Runs[0]; got.Model.Layers != 4 || got.Train.Steps != 20 || got.Train.Batch != 8 || got.Model.DModel != 32 {
		t.Errorf("rebased run: layers %d, steps %d, batch %d, d_model %d", got.Model.Layers, got.Train.Steps, got.Train.Batch, got.Model.DModel)
	}
	var claims []string
	for _, e := range rebased.Expectations {
		claims = append(claims, e.Claim)
	}
	if want := []string{"sink_1[heads: 1] > 5", "sink_1[heads: 2] > 1"}; !slices.Equal(claims, want) {
		t.Errorf("claims %q, want %q", claims, want)
	}
}

// Two rebased experiments that are each other's base are an error at the
// `on`, not a hang.
func TestRebaseCycle(t *testing.T) {
	_, err := Compile(map[string][]byte{
		"a.sink": []byte("experiment r { }\nexperiment s extends r { }\nexperiment x extends s on y { }\n"),
		"b.sink": []byte("experiment t extends r { }\nexperiment y extends t on x { }\n"),
	})
	if err == nil || !strings.Contains(err.Error(), "cannot be the base of") {
		t.Fatalf("got %v", err)
	}
}

// bigram_backcopy's lags 1 is the original task, unset: the same run.
func TestLagsOneIsUnset(t *testing.T) {
	exps := compileOne(t, `
experiment a { data { corpus bigram_backcopy(vocab: 64) } }
experiment b { data { corpus bigram_backcopy(vocab: 64, lags: 1) } }
`)
	a, b := find(t, exps, "a").Runs[0], find(t, exps, "b").Runs[0]
	a.Experiment, b.Experiment = "", ""
	if a.ID() != b.ID() {
		t.Errorf("lags 1 and unset differ:\n%s\n%s", a.JSON(), b.JSON())
	}
}

package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyTokenizer puts the tokenizer package's OPT-layout fixture (261 ids)
// in dir.
func copyTokenizer(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"vocab.json", "merges.txt", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join("..", "formats", "tokenizer", "testdata", "opt", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeSink(t *testing.T, path, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A bpe tokenizer's path is relative to the file that sets it, even when
// an experiment in another directory inherits it; the model's vocabulary is
// the tokenizer's.
func TestBPETokenizer(t *testing.T) {
	dir := t.TempDir()
	copyTokenizer(t, filepath.Join(dir, "lib", "tok"))
	writeSink(t, filepath.Join(dir, "lib", "base.sink"), `experiment base {
  data {
    corpus files(paths: ["*.txt"])
    tokenizer bpe(path: "tok")
  }
}
`)
	writeSink(t, filepath.Join(dir, "study.sink"), `import "lib/base.sink"
experiment study extends base {
  vary data.tokenizer [bytes, bpe(path: "lib/tok/")]
}
`)
	exps, err := CompileFiles([]string{filepath.Join(dir, "study.sink")})
	if err != nil {
		t.Fatal(err)
	}
	runs := exps[0].Runs
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2", len(runs))
	}
	if r := runs[0]; r.Model.Vocab != 256 || r.Data.Tokenizer.Kind != "bytes" || !strings.Contains(r.JSON(), `"tokenizer":"bytes"`) {
		t.Errorf("bytes run: vocab %d, tokenizer %+v, JSON %s", r.Model.Vocab, r.Data.Tokenizer, r.JSON())
	}
	if r := runs[1]; r.Model.Vocab != 261 || r.Data.Tokenizer.Path != "lib/tok/" || r.Data.Tokenizer.Vocab != 261 {
		t.Errorf("bpe run: vocab %d, tokenizer %+v", r.Model.Vocab, r.Data.Tokenizer)
	}

	// Inherited from lib/base.sink: "tok" there is lib/tok here.
	writeSink(t, filepath.Join(dir, "inherit.sink"), "import \"lib/base.sink\"\nexperiment child extends base {\n}\n")
	exps, err = CompileFiles([]string{filepath.Join(dir, "inherit.sink")})
	if err != nil {
		t.Fatal(err)
	}
	if r := exps[0].Runs[0]; r.Data.Tokenizer.Path != "lib/tok" || r.Model.Vocab != 261 {
		t.Errorf("inherited bpe run: vocab %d, tokenizer %+v", r.Model.Vocab, r.Data.Tokenizer)
	}
}

func TestBPETokenizerErrors(t *testing.T) {
	dir := t.TempDir()
	copyTokenizer(t, filepath.Join(dir, "tok"))
	for _, c := range []struct{ data, model, want string }{
		{`tokenizer bpe(path: "nope")`, "", `t.sink:2:30: data.tokenizer: tokenizer: ` + filepath.Join(dir, "nope") + " does not exist"},
		{`tokenizer bpe`, "", `t.sink:2:20: data.tokenizer: bpe needs the path of the tokenizer's files`},
		{`tokenizer bpe(path: "tok")`, "vocab 100", `model.vocab (100) is smaller than the tokenizer's vocabulary (261)`},
		{`tokenizer bpe(path: "tok")`, "vocab 300", ""},
	} {
		path := filepath.Join(dir, "t.sink")
		writeSink(t, path, "experiment e {\n  data { "+c.data+" }\n  model { "+c.model+" }\n}\n")
		_, err := CompileFiles([]string{path})
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.data, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %s", c.data, err, c.want)
		}
	}
}

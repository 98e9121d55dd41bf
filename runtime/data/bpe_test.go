package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/formats/tokenizer"
)

// optTokenizer is a small byte-level BPE in OPT's layout (261 ids), from
// the tokenizer package's fixtures.
func optTokenizer(t *testing.T) (string, *tokenizer.Tokenizer) {
	t.Helper()
	path, err := filepath.Abs("../../formats/tokenizer/testdata/opt")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, tok
}

func TestBPETokenizedCorpus(t *testing.T) {
	path, tok := optTokenizer(t)
	dir := t.TempDir()
	docs := []string{strings.Repeat("He said: Hello there. ", 40), strings.Repeat("Héllo\tHe? ", 60)}
	for i, d := range docs {
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".txt"), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	newline := tok.AppendText(nil, "\n")
	for _, c := range []struct {
		name string
		sep  config.Separator
		want []int
	}{
		{"newline", config.Separator{Kind: "newline"}, slices.Concat(tok.AppendText(nil, docs[0]), newline, tok.AppendText(nil, docs[1]))},
		{"eot", config.Separator{Kind: "eot", Token: 2}, slices.Concat(tok.AppendText(nil, docs[0]), []int{2}, tok.AppendText(nil, docs[1]))},
		{"none", config.Separator{Kind: "none"}, slices.Concat(tok.AppendText(nil, docs[0]), tok.AppendText(nil, docs[1]))},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := config.Default().Data
			cfg.Corpus = config.Corpus{Kind: "files", Paths: []string{"*.txt"}}
			cfg.Tokenizer = config.Tokenizer{Kind: "bpe", Path: path, Vocab: tok.Size()}
			cfg.Separator = c.sep
			cfg.Context, cfg.Holdout = 16, 0.25
			d, err := Load(cfg, dir)
			if err != nil {
				t.Fatal(err)
			}
			if d.Vocab != 261 {
				t.Errorf("Vocab = %d, want the tokenizer's 261", d.Vocab)
			}
			var got []int
			for _, s := range []stream{d.train, d.held} {
				for _, w := range s.d {
					got = append(got, int(w))
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("stream of %d tokens differs from the tokenizer's %d", len(got), len(c.want))
			}
			if !strings.Contains(d.Describe(), "bpe tokenizer") {
				t.Errorf("Describe() = %q, want the tokenizer named", d.Describe())
			}
		})
	}
}

func TestBPETokenizerErrors(t *testing.T) {
	path, _ := optTokenizer(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte(strings.Repeat("Hello. ", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tok  config.Tokenizer
		want string
	}{
		{config.Tokenizer{Kind: "bpe", Path: "missing", Vocab: 261}, filepath.Join(dir, "missing")},
		{config.Tokenizer{Kind: "bpe", Path: path, Vocab: 300}, "has 261 token ids, not the 300"},
		{config.Tokenizer{Kind: "bpe", Path: path}, "its vocabulary is unknown"},
	} {
		cfg := config.Default().Data
		cfg.Corpus = config.Corpus{Kind: "files", Paths: []string{"a.txt"}}
		cfg.Tokenizer, cfg.Context = c.tok, 16
		if _, err := Load(cfg, dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.tok, err, c.want)
		}
	}
}

// max_bytes counts the documents' text, cut at a character boundary.
func TestBPEMaxBytes(t *testing.T) {
	_, tok := optTokenizer(t)
	j := joiner{limit: 5, tok: &textTokenizer{tok: tok, sep: []int32{2}}}
	if full := j.addText([]byte("Hé")); full {
		t.Fatal("full after 3 of 5 bytes")
	}
	if full := j.addText([]byte("éHe")); !full {
		t.Fatal("not full after 5 bytes")
	}
	// 3 bytes, then 2 of "éHe": "é"; the separator between.
	want := slices.Concat(tok.AppendText(nil, "Hé"), []int{2}, tok.AppendText(nil, "é"))
	var got []int
	for _, w := range j.d {
		got = append(got, int(w))
	}
	if !slices.Equal(got, want) {
		t.Errorf("stream %v, want %v", got, want)
	}
}

package tokenizer

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goSource reads up to limit bytes of .go files under $GOROOT/src, the
// builtin corpus of sinkrun's data package.
func goSource(b *testing.B, limit int) []string {
	b.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skipf("go env GOROOT: %v", err)
	}
	var docs []string
	total := 0
	root := filepath.Join(strings.TrimSpace(string(out)), "src")
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || total >= limit {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs = append(docs, string(data))
		total += len(data)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return docs
}

// BenchmarkEncodeGoSource reports GPT-2 tokens per second on 16 MB of Go
// source, starting each round with an empty word cache.
func BenchmarkEncodeGoSource(b *testing.B) {
	vocab, merges := gpt2Files(b)
	docs := goSource(b, 16<<20)
	bytes := 0
	for _, d := range docs {
		bytes += len(d)
	}
	b.SetBytes(int64(bytes))
	tokens := 0
	for b.Loop() {
		tok, err := LoadVocabMerges(vocab, merges)
		if err != nil {
			b.Fatal(err)
		}
		var ids []int
		for _, d := range docs {
			ids = tok.AppendText(ids[:0], d)
			tokens += len(ids)
		}
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}

package dsl

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repoSinkFiles returns every .sink file of the repository: experiments/
// (recursively) and the tests' testdata.
func repoSinkFiles(t *testing.T) []string {
	var files []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".sink") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("only %d .sink files found", len(files))
	}
	return files
}

// corpusGolden is where the formatted form of a testdata file written in a
// non-canonical style on purpose is kept.
func corpusGolden(path string) string {
	rel := strings.TrimPrefix(filepath.ToSlash(path), "../")
	return filepath.Join("testdata", "format", "corpus", strings.ReplaceAll(rel, "/", "_")+".golden")
}

// TestFormatRepository formats every .sink file of the repository. A file
// in experiments/ (and any other file without a golden) is canonical: it
// formats to itself. A testdata file with a golden in
// testdata/format/corpus/ formats to that (go test ./dsl -run
// TestFormatRepository -update rewrites them). Only the error corpora may
// fail to parse.
func TestFormatRepository(t *testing.T) {
	for _, path := range repoSinkFiles(t) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Format(path, src)
		if err != nil {
			if !strings.Contains(filepath.ToSlash(path), "/testdata/errors/") {
				t.Errorf("%s: %v", path, err)
			}
			continue
		}
		want, golden := src, corpusGolden(path)
		if g, err := os.ReadFile(golden); err == nil {
			want = g
		}
		if *updateGolden && string(got) != string(src) {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if string(got) != string(want) {
			t.Errorf("%s: formatted:\n%s\nwant:\n%s", path, got, want)
		}
	}
}

// TestFormatKeepsEveryComment puts a comment after every token of every
// corpus file, trailing and on a line of its own, and checks that each
// variant that parses formats to a fixed point that keeps all its comments,
// in order.
func TestFormatKeepsEveryComment(t *testing.T) {
	seen := map[string]bool{}
	var sources [][]byte
	for _, path := range repoSinkFiles(t) {
		src, _ := os.ReadFile(path)
		sources = append(sources, src)
	}
	variants := 0
	for _, src := range append(sources, corpus(t)...) {
		s, err := lex("c.sink", src)
		if err != nil || seen[string(src)] {
			continue
		}
		seen[string(src)] = true
		// Every token of a short file; about 12 of a long one.
		for i := 0; i < len(s.marks); i += max(1, len(s.marks)/12) {
			m := s.marks[i]
			at := offsetOf(src, m.pos) + len(m.text)
			for _, c := range []string{" # after\n", "\n\n// after a blank line\n"} {
				v := append(append(append([]byte{}, src[:at]...), c...), src[at:]...)
				if _, err := Parse("c.sink", v); err != nil {
					continue
				}
				variants++
				checkComments(t, v)
			}
		}
	}
	if variants < 500 {
		t.Errorf("only %d variants parse", variants)
	}
}

// checkComments checks that src formats to a fixed point with the same
// comments.
func checkComments(t *testing.T, src []byte) {
	t.Helper()
	out, err := Format("c.sink", src)
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	again, err := Format("c.sink", out)
	if err != nil || string(again) != string(out) {
		t.Fatalf("%q: not idempotent (%v):\nonce:\n%s\ntwice:\n%s", src, err, out, again)
	}
	if a, b := commentTexts(src), commentTexts(out); !slices.Equal(a, b) {
		t.Fatalf("%q formats to %q:\ncomments %q\nbecame   %q", src, out, a, b)
	}
}

func commentTexts(src []byte) []string {
	s, _ := lex("c.sink", src)
	var texts []string
	for _, c := range s.comments {
		texts = append(texts, c.Text)
	}
	return texts
}

// offsetOf is the byte offset of a position (columns count runes).
func offsetOf(src []byte, p Pos) int {
	off := 0
	for line := 1; line < p.Line; line++ {
		off += strings.IndexByte(string(src[off:]), '\n') + 1
	}
	return off + len(string([]rune(string(src[off:]))[:p.Col-1]))
}

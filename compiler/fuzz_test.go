package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCompile checks that no input makes the parser or compiler panic or
// hang, and that every error has a position in the input file. The seed
// corpus is every .sink file of testdata/ and experiments/ (if any), the
// examples of docs/dsl.md, and malformed variants of each.
func FuzzCompile(f *testing.F) {
	for _, src := range seedSources(f) {
		f.Add(src)
		n := len(src)
		for _, cut := range []int{n / 3, n / 2, 2 * n / 3, n - 1} { // truncated
			if cut > 0 && cut < n {
				f.Add(src[:cut])
			}
		}
		if n > 10 { // a byte swapped for garbage
			b := append([]byte{}, src...)
			b[n/2] = 0xfe
			f.Add(b)
		}
		f.Add([]byte(strings.ReplaceAll(string(src), "\n", " "))) // newlines lost
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		exps, err := Compile(map[string][]byte{"fuzz.sink": src})
		if err != nil {
			if exps != nil {
				t.Fatal("experiments returned with an error")
			}
			lines := strings.Count(string(src), "\n") + 1
			for _, e := range asList(err) {
				if e.Pos.File != "fuzz.sink" || e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1 {
					t.Fatalf("error without a position in the file: %#v", e)
				}
				if strings.HasPrefix(e.Msg, "internal") {
					t.Fatalf("internal error: %v", e)
				}
			}
			_ = FormatErrors(err, map[string][]byte{"fuzz.sink": src})
			_ = FormatErrors(err, nil)
			return
		}
		for _, x := range exps {
			if len(x.Runs) == 0 || len(x.Runs) > MaxRuns {
				t.Fatalf("experiment %s has %d runs", x.Name, len(x.Runs))
			}
			for _, r := range x.Runs {
				if ParamCount(r.Model) <= 0 || TrainFLOPs(r) <= 0 {
					t.Fatalf("run %s: %d parameters, %g FLOPs", r.ID(), ParamCount(r.Model), TrainFLOPs(r))
				}
			}
		}
	})
}

// seedSources reads the seed files: testdata/*/*.sink (and their "---"
// chunks), ../experiments/*.sink, and the ```sink blocks of docs/dsl.md.
func seedSources(tb testing.TB) [][]byte {
	var files []string
	for _, pat := range []string{"testdata/*/*.sink", "../experiments/*.sink", "../experiments/*/*.sink"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	var out [][]byte
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, src)
		if strings.Contains(string(src), "\n---\n") {
			for _, c := range chunks(string(src)) {
				out = append(out, []byte(c))
			}
		}
	}
	if doc, err := os.ReadFile(docPath); err == nil {
		parts := strings.Split(string(doc), "```sink\n")
		for _, p := range parts[1:] {
			if i := strings.Index(p, "```"); i >= 0 {
				out = append(out, []byte(p[:i]))
			}
		}
	}
	return out
}

package compiler

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzCompile checks that no input makes the parser or compiler panic, and
// that every error has a position in the input file.
func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.sink")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
		for _, c := range chunks(string(src)) {
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		exps, err := Compile(map[string][]byte{"fuzz.sink": src})
		if err != nil {
			if exps != nil {
				t.Fatal("experiments returned with an error")
			}
			for _, e := range asList(err) {
				if e.Pos.File != "fuzz.sink" || e.Pos.Line < 1 || e.Pos.Col < 1 {
					t.Fatalf("error without position: %#v", e)
				}
				if len(e.Msg) > 0 && e.Msg[:min(len(e.Msg), 8)] == "internal" {
					t.Fatalf("internal error: %v", e)
				}
			}
			_ = FormatErrors(err, map[string][]byte{"fuzz.sink": src})
			return
		}
		for _, x := range exps {
			if len(x.Runs) == 0 || len(x.Runs) > MaxRuns {
				t.Fatalf("experiment %s has %d runs", x.Name, len(x.Runs))
			}
		}
	})
}

package compiler

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestErrorFiles compiles testdata/errors/*.sink. Each file is split into
// chunks at lines that are exactly "---"; each chunk is compiled on its own
// (line numbers are kept). A comment `### "regexp" ...` on a line lists the
// errors expected on that line (one regexp each, in double quotes or backquotes); every
// reported error must be expected and every expectation met. A regexp
// preceded by @N (`### @7 "regexp"`) must also be reported at column N.
func TestErrorFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/errors/*.sink")
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	total := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range chunks(string(src)) {
			total += checkChunk(t, file, chunk)
		}
	}
	t.Logf("%d expected errors checked", total)
}

var wantRe = regexp.MustCompile(`(?:@(\d+) *)?(?:"((?:[^"\\]|\\.)*)"|` + "`([^`]*)`)")

type want struct {
	re  *regexp.Regexp
	col int // 0: any
}

func chunks(src string) []string {
	lines := strings.Split(src, "\n")
	var out []string
	start := 0
	for i := 0; i <= len(lines); i++ {
		if i == len(lines) || lines[i] == "---" {
			var b strings.Builder
			for j := 0; j < len(lines); j++ {
				if j >= start && j < i {
					b.WriteString(lines[j])
				}
				b.WriteString("\n")
			}
			out = append(out, b.String())
			start = i + 1
		}
	}
	return out
}

func checkChunk(t *testing.T, file, chunk string) int {
	t.Helper()
	wants := map[int][]want{}
	n := 0
	for i, line := range strings.Split(chunk, "\n") {
		k := strings.Index(line, "###")
		if k < 0 {
			continue
		}
		for _, m := range wantRe.FindAllStringSubmatch(line[k:], -1) {
			s := m[3] // `raw`
			if m[3] == "" {
				var err error
				if s, err = strconv.Unquote(`"` + m[2] + `"`); err != nil {
					s = m[2]
				}
			}
			col, _ := strconv.Atoi(m[1])
			wants[i+1] = append(wants[i+1], want{regexp.MustCompile(s), col})
			n++
		}
	}
	_, err := Compile(map[string][]byte{file: []byte(chunk)})
	got := asList(err)
	for _, e := range got {
		if e.Pos.File != file {
			t.Errorf("%s: error in unexpected file: %v", file, e)
			continue
		}
		res := wants[e.Pos.Line]
		matched := -1
		for i, w := range res {
			if w.re.MatchString(e.Msg) && (w.col == 0 || w.col == e.Pos.Col) {
				matched = i
				break
			}
		}
		if matched < 0 {
			t.Errorf("unexpected error: %v", e)
			continue
		}
		wants[e.Pos.Line] = append(res[:matched:matched], res[matched+1:]...)
	}
	for line, res := range wants {
		for _, w := range res {
			t.Errorf("%s:%d:%d: expected an error matching %q", file, line, w.col, w.re)
		}
	}
	return n
}

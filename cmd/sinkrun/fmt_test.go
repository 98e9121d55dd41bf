package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const messy = "# keep me\nexperiment a { model { layers 2; heads 4 } # trailing\n}\n"
const tidy = "# keep me\nexperiment a {\n  model {\n    layers 2\n    heads 4\n  } # trailing\n}\n"

func runFmt(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = cmdFmt(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestFmtCommand(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.sink")
	if err := os.WriteFile(p, []byte(messy), 0o640); err != nil {
		t.Fatal(err)
	}
	// Without flags: print, do not touch the file.
	if code, out, _ := runFmt(p); code != 0 || out != tidy {
		t.Errorf("print: %d %q", code, out)
	}
	// -l lists unformatted files and fails.
	if code, out, _ := runFmt("-l", dir); code != 1 || out != p+"\n" {
		t.Errorf("-l: %d %q", code, out)
	}
	// -d shows a diff and fails.
	code, out, _ := runFmt("-d", p)
	if code != 1 || !strings.HasPrefix(out, "--- "+p+"\n+++ "+p+" (formatted)\n@@ -1,3 +1,7 @@\n # keep me\n-experiment a { model") {
		t.Errorf("-d: %d %q", code, out)
	}
	// -w rewrites in place, keeping the permissions; then all is formatted.
	if code, out, _ := runFmt(p, "-w"); code != 0 || out != "" {
		t.Errorf("-w: %d %q", code, out)
	}
	got, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(got) != tidy || st.Mode().Perm() != 0o640 {
		t.Errorf("after -w: %q, mode %v", got, st.Mode())
	}
	if code, out, _ := runFmt("-l", "-d", p); code != 0 || out != "" {
		t.Errorf("formatted file: %d %q", code, out)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A file that does not parse: its error with a caret, exit 1, file untouched.
	bad := filepath.Join(dir, "bad.sink")
	os.WriteFile(bad, []byte("experiment a {\n  model { layers 2 heads 4 }\n}\n"), 0o644)
	code, out, errs := runFmt("-w", bad, p)
	if code != 1 || out != "" || !strings.Contains(errs, bad+":2:20: unexpected \"heads\"") || !strings.Contains(errs, "\n                       ^\n") {
		t.Errorf("bad file: %d %q %q", code, out, errs)
	}
	if code, _, errs := runFmt(filepath.Join(dir, "missing.sink")); code != 1 || !strings.Contains(errs, "missing.sink") {
		t.Errorf("missing file: %d %q", code, errs)
	}
	if code, _, _ := runFmt("-w"); code != exitUsage {
		t.Errorf("-w without files: %d", code)
	}
	if code, _, _ := runFmt("-help"); code != 0 {
		t.Errorf("-help: %d", code)
	}
}

func TestUnifiedDiff(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"", "x\n"},
		{"x\n", ""},
		{"a\nb\nc\n", "a\nB\nc\n"},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12\n"},
		{"a\nb", "a\nb\n"},
		{strings.Repeat("same\n", 50) + "old\n", "new\n" + strings.Repeat("same\n", 50)},
	} {
		d := unifiedDiff("f", []byte(tc.a), []byte(tc.b))
		a, b := applyDiff(t, tc.a, d)
		if a != tc.a || b != tc.b {
			t.Errorf("diff of %q and %q:\n%s", tc.a, tc.b, d)
		}
	}
	want := "--- f\n+++ f (formatted)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
	if d := unifiedDiff("f", []byte("a\nb\nc\n"), []byte("a\nB\nc\n")); d != want {
		t.Errorf("diff:\n%s\nwant:\n%s", d, want)
	}
	// Two changes far apart make two hunks.
	d := unifiedDiff("f", []byte("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"), []byte("X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n"))
	if strings.Count(d, "@@ -") != 2 || !strings.Contains(d, "@@ -1,4 +1,4 @@") || !strings.Contains(d, "@@ -9,4 +9,4 @@") {
		t.Errorf("hunks:\n%s", d)
	}
}

// applyDiff rebuilds both sides of a unified diff against the original a,
// checking the hunk headers.
func applyDiff(t *testing.T, orig, d string) (string, string) {
	t.Helper()
	lines := splitLines([]byte(orig))
	var a, b strings.Builder
	next := 0 // next original line to copy
	body := strings.SplitAfter(d, "\n")
	for i := 2; i < len(body); i++ {
		l := body[i]
		if !strings.HasPrefix(l, "@@ -") {
			continue
		}
		var as, an, bs, bn int
		hdr := strings.Fields(l)
		parse := func(s string, start, n *int) {
			parts := strings.SplitN(s[1:], ",", 2)
			*start = atoi(parts[0])
			*n = 1
			if len(parts) == 2 {
				*n = atoi(parts[1])
			}
		}
		parse(hdr[1], &as, &an)
		parse(hdr[2], &bs, &bn)
		first := as - 1
		if an == 0 {
			first = as
		}
		for ; next < first; next++ {
			a.WriteString(lines[next])
			b.WriteString(lines[next])
		}
		var ca, cb int
		for i+1 < len(body) && body[i+1] != "" && !strings.HasPrefix(body[i+1], "@@") {
			i++
			l := body[i]
			text := l[1:]
			if i+1 < len(body) && strings.HasPrefix(body[i+1], "\\ No newline") {
				text = strings.TrimSuffix(text, "\n")
				i++
			}
			switch l[0] {
			case ' ':
				a.WriteString(text)
				b.WriteString(text)
				ca, cb, next = ca+1, cb+1, next+1
			case '-':
				a.WriteString(text)
				ca, next = ca+1, next+1
			case '+':
				b.WriteString(text)
				cb++
			}
		}
		if ca != an || cb != bn {
			t.Errorf("hunk %q has %d and %d lines", l, ca, cb)
		}
	}
	for ; next < len(lines); next++ {
		a.WriteString(lines[next])
		b.WriteString(lines[next])
	}
	return a.String(), b.String()
}

// splitLines splits after each newline; the last line may lack one.
func splitLines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i+1]))
		b = b[i+1:]
	}
	return out
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

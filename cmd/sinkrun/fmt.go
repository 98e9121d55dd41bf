package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/dsl"
)

// cmdFmt formats .sink files canonically (dsl.Format).
func cmdFmt(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fmt", "[-w | -l | -d] FILES...",
		"Format .sink files canonically: two-space indentation, one setting per line, comments kept.\n"+
			"A directory stands for every .sink file under it. Without -w, -l or -d the formatted files are\n"+
			"printed to stdout; with no FILES, standard input is formatted to stdout.\n"+
			"Exit status: 1 when a file does not parse or cannot be read or written, or, with -l or -d,\n"+
			"when a file is not formatted; else 0.", stderr)
	write := fs.Bool("w", false, "rewrite files that are not formatted, in place")
	list := fs.Bool("l", false, "list files that are not formatted (and exit 1 if there are any)")
	diff := fs.Bool("d", false, "print the changes formatting would make, as unified diffs (and exit 1 if there are any)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(files) == 0 {
		if *write || *list {
			fmt.Fprintln(stderr, "sinkrun fmt: -w and -l need FILES")
			return exitUsage
		}
		src, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintln(stderr, "sinkrun fmt:", err)
			return exitError
		}
		return fmtOne("<stdin>", src, false, false, *diff, stdout, stderr)
	}
	paths, err := sinkFiles(files)
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun fmt:", err)
		return exitError
	}
	code := exitOK
	for _, p := range paths {
		if ctx.Err() != nil {
			return exitInterrupted
		}
		src, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(stderr, "sinkrun fmt:", err)
			code = exitError
			continue
		}
		if c := fmtOne(p, src, *write, *list, *diff, stdout, stderr); c != exitOK {
			code = c
		}
	}
	return code
}

// fmtOne formats one file's source and reports or writes the result.
func fmtOne(name string, src []byte, write, list, diff bool, stdout, stderr io.Writer) int {
	out, err := dsl.Format(name, src)
	if err != nil {
		fmt.Fprint(stderr, compiler.FormatErrors(err, map[string][]byte{name: src}))
		return exitError
	}
	changed := !bytes.Equal(src, out)
	code := exitOK
	if list && changed {
		fmt.Fprintln(stdout, name)
		code = exitError
	}
	if diff && changed {
		fmt.Fprint(stdout, unifiedDiff(name, src, out))
		code = exitError
	}
	if write && changed {
		if err := writeFileAtomic(name, out); err != nil {
			fmt.Fprintln(stderr, "sinkrun fmt:", err)
			return exitError
		}
	}
	if !write && !list && !diff {
		stdout.Write(out)
	}
	return code
}

// sinkFiles expands directories into the .sink files under them (sorted);
// other arguments are kept as given.
func sinkFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a) // reading it reports the error
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".sink") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writeFileAtomic replaces a file's contents, keeping its permissions.
func writeFileAtomic(name string, data []byte) error {
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), st.Mode().Perm())
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), name)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}

// unifiedDiff returns the changes from a to b as a unified diff with three
// lines of context.
func unifiedDiff(name string, a, b []byte) string {
	al, bl := splitLines(a), splitLines(b)
	ops := diffLines(al, bl)
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s (formatted)\n", name, name)
	const ctx = 3
	// Walk the edit script, cutting it into hunks around the changes.
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-ctx, 0)
		for start < i && ops[start].kind != ' ' {
			start++
		}
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			// A run of unchanged lines longer than 2·ctx ends the hunk.
			j := end
			for j < len(ops) && ops[j].kind == ' ' {
				j++
			}
			if j == len(ops) || j-end > 2*ctx {
				end = min(end+ctx, j)
				break
			}
			end = j
		}
		h := ops[start:end]
		aStart, bStart := h[0].a, h[0].b
		var na, nb int
		for _, o := range h {
			if o.kind != '+' {
				na++
			}
			if o.kind != '-' {
				nb++
			}
		}
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(aStart, na), hunkRange(bStart, nb))
		for _, o := range h {
			sb.WriteByte(o.kind)
			sb.WriteString(o.text)
			if !strings.HasSuffix(o.text, "\n") {
				sb.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = end
	}
	return sb.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprint(start + 1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
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

// diffOp is one line of an edit script: ' ' kept, '-' removed, '+' added;
// a and b are the line's index (or the insertion point) in each file.
type diffOp struct {
	kind byte
	text string
	a, b int
}

// diffLines computes an edit script by longest common subsequence, after
// stripping the common prefix and suffix; a huge middle is replaced whole.
func diffLines(a, b []string) []diffOp {
	var ops []diffOp
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		ops = append(ops, diffOp{' ', a[p], p, p})
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	am, bm := a[p:len(a)-s], b[p:len(b)-s]
	n, m := len(am), len(bm)
	if n*m > 1<<22 {
		for i, l := range am {
			ops = append(ops, diffOp{'-', l, p + i, p})
		}
		for j, l := range bm {
			ops = append(ops, diffOp{'+', l, p + n, p + j})
		}
	} else {
		// lcs[i][j]: LCS length of am[i:] and bm[j:].
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if am[i] == bm[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && am[i] == bm[j]:
				ops = append(ops, diffOp{' ', am[i], p + i, p + j})
				i, j = i+1, j+1
			case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, diffOp{'-', am[i], p + i, p + j})
				i++
			default:
				ops = append(ops, diffOp{'+', bm[j], p + i, p + j})
				j++
			}
		}
	}
	for k := 0; k < s; k++ {
		ops = append(ops, diffOp{' ', a[len(a)-s+k], len(a) - s + k, len(b) - s + k})
	}
	return ops
}

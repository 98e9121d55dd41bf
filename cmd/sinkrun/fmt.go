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

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/dsl"
	"github.com/sinkrun/sinkrun/internal/atomicfile"
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
		if err := replaceFile(name, out); err != nil {
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

// replaceFile replaces a file's contents atomically, keeping its permissions.
func replaceFile(name string, data []byte) error {
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(name, data, st.Mode().Perm())
}

// unifiedDiff returns the changes from a to b as a unified diff with three
// lines of context ("" when there are none).
func unifiedDiff(name string, a, b []byte) string {
	return udiff.Unified(name, name+" (formatted)", string(a), string(b))
}

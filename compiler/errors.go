// Package compiler resolves parsed .sink files against config.Schema: it
// follows imports, type-checks every setting, applies inheritance, expands
// vary grids, named variants and seeds into runs, and checks each run's
// settings against one another. It also estimates a run's size (ParamCount)
// and training cost (TrainFLOPs).
package compiler

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/sinkrun/sinkrun/dsl"
)

// Error is a problem in a .sink file at a position.
type Error struct {
	Pos dsl.Pos
	Msg string

	line    string // the source line at Pos, when the compiler had it
	hasLine bool
}

func (e *Error) Error() string {
	switch {
	case e.Pos.File == "":
		return e.Msg
	case e.Pos.Line == 0: // a whole file, e.g. one that cannot be read
		return e.Pos.File + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// ErrorList is several errors, sorted by position.
type ErrorList []*Error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Pos.Before(l[j].Pos) })
}

// asList converts any error returned by this package or by dsl.Parse to an
// ErrorList.
func asList(err error) ErrorList {
	var l ErrorList
	var dl dsl.ErrorList
	var de *dsl.Error
	var ce *Error
	switch {
	case err == nil:
	case errors.As(err, &l):
	case errors.As(err, &dl):
		for _, e := range dl {
			l = append(l, &Error{Pos: e.Pos, Msg: e.Msg})
		}
	case errors.As(err, &de):
		l = ErrorList{{Pos: de.Pos, Msg: de.Msg}}
	case errors.As(err, &ce):
		l = ErrorList{ce}
	default:
		l = ErrorList{{Msg: err.Error()}}
	}
	return l
}

// FormatErrors renders an error list for a terminal: each error as
// "file:line:col: message", then the source line and a caret under the
// column. sources maps file names (as in the positions) to their contents;
// it may be nil for errors returned by Compile and CompileFiles, which carry
// their source lines (imported files included). Other errors in files not
// in sources are printed without the source line.
func FormatErrors(err error, sources map[string][]byte) string {
	var b strings.Builder
	for _, e := range asList(err) {
		b.WriteString(e.Error() + "\n")
		if e.Pos.Line < 1 {
			continue
		}
		line, ok := e.line, e.hasLine
		if src, have := sources[e.Pos.File]; have {
			line, ok = sourceLine(src, e.Pos.Line)
		}
		if !ok {
			continue
		}
		if !utf8.ValidString(line) {
			line = strings.ToValidUTF8(line, "?")
		}
		b.WriteString("    " + line + "\n    ")
		col := 1
		for _, r := range line {
			if col >= e.Pos.Col {
				break
			}
			if r == '\t' {
				b.WriteByte('\t')
			} else {
				b.WriteByte(' ')
			}
			col++
		}
		b.WriteString("^\n")
	}
	return b.String()
}

func errorf(pos dsl.Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

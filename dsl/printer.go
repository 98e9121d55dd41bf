package dsl

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Format returns the canonical form of a .sink file. The file must parse
// (the error is Parse's). The canonical form:
//
//   - indents with two spaces per level of braces;
//   - puts each experiment, import, block, setting, vary, zipped axis and
//     variant on its own line (a ";" becomes a line break); a block with at
//     most one entry written on one line stays on one line, e.g.
//     `model { layers 4 }`; an experiment and a variants block are always
//     written out on several lines, an empty body as `{}`;
//   - writes one space between words, after ":" and ",", and inside the
//     braces of a one-line block, and none inside (), [] or around the dots
//     of a path;
//   - writes a value list or argument list on one line when it was written
//     on one line; else it keeps the line breaks after its commas, puts the
//     closing bracket on its own line and ends every line with a comma;
//   - keeps comments, own-line and trailing; aligns the trailing comments
//     of consecutive lines; keeps at most one blank line between entries and
//     none at the start or end of a block or file;
//   - writes a claim's selector right after its metric: `sink_1[bias: k]`;
//   - keeps numbers and strings as written.
//
// Format is idempotent: formatting its result changes nothing, and the
// result parses to the same syntax tree as the input (positions aside).
//
// It prints the syntax tree. Where lines break and where a comment goes
// come from the source positions: a comment is written where the walk
// reaches its position, as a line of its own if it began a line (in a list,
// after a comma) and otherwise at the end of the current line.
func Format(filename string, src []byte) (out []byte, err error) {
	f, s, err := parse(filename, src)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &Error{Pos: Pos{File: filename, Line: 1, Col: 1}, Msg: fmt.Sprintf("internal error while formatting: %v", r)}
		}
	}()
	p := &printer{src: s}
	var top []stmt
	for _, im := range f.Imports {
		top = append(top, stmt{pos: im.Pos, head: func() { p.words("import", im.PathText) }})
	}
	for _, e := range f.Experiments {
		top = append(top, p.experiment(e))
	}
	p.stmts(top, Pos{File: filename, Line: math.MaxInt})
	p.newline()
	return p.bytes(), nil
}

// stmt is a statement as the printer sees it: where it starts, what comes
// before its braces (all of it, for a statement without braces) and what
// is inside them.
type stmt struct {
	pos  Pos
	head func()
	body *body
}

type body struct {
	lbrace, rbrace Pos
	items          []stmt
	force          bool // written on several lines even when short (an experiment, variants)
}

func (p *printer) experiment(e *Experiment) stmt {
	var items []stmt
	for _, b := range e.Blocks {
		s := p.block(b)
		// Braces after "variants" that hold settings are a block, which
		// the compiler reports; they are written out as variants are.
		s.body.force = b.Name == "variants"
		items = append(items, s)
	}
	for _, s := range e.Stray {
		items = append(items, p.setting(s))
	}
	for _, v := range e.Varies {
		items = append(items, p.vary(v))
	}
	for _, x := range e.Expects {
		items = append(items, p.expect(x))
	}
	return stmt{pos: e.Pos, head: func() {
		p.words("experiment", e.Name)
		if e.Extends != "" {
			p.words("extends", e.Extends)
		}
		if e.On != "" {
			p.words("on", e.On)
		}
	}, body: &body{e.Lbrace, e.Rbrace, inOrder(items), true}}
}

func (p *printer) block(b *Block) stmt {
	var items []stmt
	for _, s := range b.Settings {
		items = append(items, p.setting(s))
	}
	return stmt{pos: b.Pos, head: func() { p.word(b.Name) }, body: &body{b.Lbrace, b.Rbrace, items, false}}
}

func (p *printer) setting(s *Setting) stmt {
	return stmt{pos: s.Pos, head: func() { p.word(s.Key); p.value(s.Value) }}
}

func (p *printer) vary(v *Vary) stmt {
	switch {
	case v.IsVariants:
		var items []stmt
		for _, vr := range v.Variants {
			var inner []stmt
			for _, b := range vr.Blocks {
				inner = append(inner, p.block(b))
			}
			for _, s := range vr.Stray {
				inner = append(inner, p.setting(s))
			}
			items = append(items, stmt{pos: vr.Pos, head: func() { p.word(vr.Name) }, body: &body{vr.Lbrace, vr.Rbrace, inOrder(inner), false}})
		}
		return stmt{pos: v.Pos, head: func() { p.word("variants") }, body: &body{v.Lbrace, v.Rbrace, items, true}}
	case v.Zip:
		var items []stmt
		for _, a := range v.Axes {
			items = append(items, stmt{pos: a.Pos, head: func() { p.word(a.Path); p.value(a.Values) }})
		}
		return stmt{pos: v.Pos, head: func() { p.words("vary", "zip") }, body: &body{v.Lbrace, v.Rbrace, items, false}}
	}
	return stmt{pos: v.Pos, head: func() { p.words("vary", v.Axes[0].Path); p.value(v.Axes[0].Values) }}
}

func (p *printer) expect(x *Expect) stmt {
	var items []stmt
	for _, c := range x.Claims {
		items = append(items, stmt{pos: c.Pos, head: func() {
			if c.Disagrees {
				p.word("disagrees")
			}
			p.sum(c.Left)
			p.word(c.Op)
			p.sum(c.Right)
		}})
	}
	return stmt{pos: x.Pos, head: func() { p.word("expect") }, body: &body{x.Lbrace, x.Rbrace, items, false}}
}

func inOrder(items []stmt) []stmt {
	slices.SortStableFunc(items, func(a, b stmt) int {
		switch {
		case a.pos.Before(b.pos):
			return -1
		case b.pos.Before(a.pos):
			return 1
		}
		return 0
	})
	return items
}

// stmts writes the statements of a file or of a pair of braces, each on its
// own line, with the comments among them. Comments on the line of the "{"
// stay there.
func (p *printer) stmts(items []stmt, end Pos) {
	first := end
	if len(items) > 0 {
		first = items[0].pos
	}
	p.trailing(first)
	p.newline()
	n := 0 // statements and own-line comments written so far
	for i, s := range items {
		p.ownLines(s.pos, &n)
		p.newline()
		p.blank = n > 0 && p.gap(s.pos) >= 2
		p.stmt(s)
		n++
		next := end
		if i+1 < len(items) {
			next = items[i+1].pos
		}
		p.trailing(next)
		p.newline()
	}
	p.ownLines(end, &n)
}

func (p *printer) stmt(s stmt) {
	s.head()
	if s.body != nil {
		// Comments between a header and its "{" end the line of the "{".
		p.pendBefore(s.body.lbrace)
		p.brace(s.body)
	}
}

func (p *printer) brace(b *body) {
	if len(b.items) == 0 && !p.commentBefore(b.rbrace) {
		p.word("{}")
		return
	}
	if !b.force && p.inline(b) {
		p.word("{")
		if len(b.items) > 0 {
			p.stmt(b.items[0])
		}
		p.word("}")
		return
	}
	p.word("{")
	p.indent++
	p.stmts(b.items, b.rbrace)
	p.indent--
	p.word("}")
}

// inline reports whether braces hold at most one statement, written on the
// same line without comments, in braces that are inline too.
func (p *printer) inline(b *body) bool {
	if p.src.broken[b.lbrace].any || len(b.items) > 1 {
		return false
	}
	return len(b.items) == 0 || b.items[0].body == nil || p.inline(b.items[0].body)
}

func (p *printer) value(e Expr) {
	p.pendBefore(e.Position())
	switch v := e.(type) {
	case *Number:
		p.word(v.Text)
	case *String:
		p.word(v.Text)
	case *Ident:
		p.word(v.Name)
	case *List:
		elems := make([]elem, len(v.Elems))
		for i, x := range v.Elems {
			elems[i] = elem{x.Position(), func() { p.value(x) }}
		}
		p.bracket("[", "]", v.Pos, v.Rbrack, elems)
	case *Call:
		p.word(v.Name)
		p.bracket("(", ")", v.Lparen, v.Rparen, p.args(v.Args))
	}
}

func (p *printer) args(args []*Arg) []elem {
	elems := make([]elem, len(args))
	for i, a := range args {
		elems[i] = elem{a.Pos, func() { p.words(a.Name, ":"); p.value(a.Value) }}
	}
	return elems
}

func (p *printer) sum(s *Sum) {
	for i, t := range s.Terms {
		switch {
		case t.Neg:
			p.word("-")
			p.glue = i == 0 // -x
		case i > 0:
			p.word("+")
		}
		if t.Number != nil {
			p.word(t.Number.Text)
			continue
		}
		m := t.Metric
		p.word(m.Name)
		if m.Lparen.Line > 0 {
			p.bracket("(", ")", m.Lparen, m.Rparen, p.args(m.Args))
		}
		if m.Lbrack.Line > 0 {
			elems := make([]elem, len(m.Selector))
			for i, s := range m.Selector {
				elems[i] = elem{s.Pos, func() { p.words(s.Path, ":"); p.value(s.Value) }}
			}
			p.glue = true // sink_1[...]
			p.bracket("[", "]", m.Lbrack, m.Rbrack, elems)
		}
	}
}

// elem is an element of a list or argument list.
type elem struct {
	pos   Pos
	write func()
}

// bracket writes a ( ... ) or [ ... ] group. Written on one line in the
// source (without comments), it stays on one line; else its line breaks
// after commas are kept, each line ends with a comma and the closing
// bracket goes on a line of its own.
func (p *printer) bracket(open, close string, lpos, rpos Pos, elems []elem) {
	p.word(open)
	if !p.src.broken[lpos].direct {
		for i, e := range elems {
			if i > 0 {
				p.word(",")
			}
			e.write()
		}
		p.word(close)
		return
	}
	p.multiline(elems, rpos)
	p.word(close)
}

// multiline writes the elements of a group on the lines they were on, each
// ending with a comma, and the comments among them; it ends the last line.
func (p *printer) multiline(elems []elem, rpos Pos) {
	next := rpos
	if len(elems) > 0 {
		next = elems[0].pos
	}
	own := p.split(next) // the rest go on the line of the opening bracket
	p.newline()
	p.indent++
	for i, e := range elems {
		if i > 0 {
			own = p.split(e.pos)
		}
		blank := false // a blank line went before the element or its comments
		for _, c := range own {
			blank = blank || i > 0 && p.gap(c.Pos) >= 2
		}
		for j, c := range own {
			p.ownComment(c.Text, j == 0 && blank)
		}
		if i == 0 || p.gap(e.pos) >= 1 || len(own) > 0 {
			p.newline()
			p.blank = len(own) == 0 && i > 0 && p.gap(e.pos) >= 2
		}
		e.write()
		p.word(",")
	}
	if len(elems) > 0 {
		own = p.split(rpos)
	}
	for _, c := range own {
		p.ownComment(c.Text, false)
	}
	p.newline()
	p.indent--
}

// printer builds the output line by line.
type printer struct {
	src       *source
	next      int // the next comment to write
	lines     []fline
	cur       strings.Builder
	curIndent int
	indent    int
	prev      string   // the last word written on the current line
	glue      bool     // write the next word without a space before it
	pending   []string // comments for the end of the current line
	blank     bool     // put a blank line before the next line
}

// fline is one output line.
type fline struct {
	indent   int
	code     string
	comment  string
	blankBef bool
}

func (p *printer) words(ws ...string) {
	for _, w := range ws {
		p.word(w)
	}
}

// word writes a token, with a space before it where the spacing rules ask
// for one.
func (p *printer) word(s string) {
	if p.cur.Len() == 0 {
		p.curIndent = p.indent
	} else if space(p.prev, s) && !p.glue {
		p.cur.WriteByte(' ')
	}
	p.cur.WriteString(s)
	p.prev, p.glue = s, false
}

func space(prev, next string) bool {
	switch next {
	case ",", ":", ".", ")", "]", "(":
		return false
	}
	switch prev {
	case ".", "(", "[":
		return false
	}
	return true
}

// newline ends the current line, if it has anything, putting the pending
// comments at its end (the first) and on lines of their own (the rest).
func (p *printer) newline() {
	if p.cur.Len() == 0 && len(p.pending) == 0 {
		return
	}
	l := fline{indent: p.curIndent, code: p.cur.String(), blankBef: p.blank}
	if p.cur.Len() == 0 {
		l.indent = p.indent
	}
	if len(p.pending) > 0 {
		l.comment = p.pending[0]
	}
	p.lines = append(p.lines, l)
	for _, c := range p.pending[min(1, len(p.pending)):] {
		p.lines = append(p.lines, fline{indent: p.indent, comment: c})
	}
	p.cur.Reset()
	p.prev, p.pending, p.blank = "", nil, false
}

// ownComment writes a comment on a line of its own.
func (p *printer) ownComment(c string, blank bool) {
	p.newline()
	p.lines = append(p.lines, fline{indent: p.indent, comment: c, blankBef: blank})
}

// The comments, taken in source order as the walk reaches them.

func (p *printer) commentBefore(pos Pos) bool {
	return p.next < len(p.src.comments) && p.src.comments[p.next].Pos.Before(pos)
}

// pendBefore puts the comments before pos at the end of the current line.
func (p *printer) pendBefore(pos Pos) {
	for ; p.commentBefore(pos); p.next++ {
		p.pending = append(p.pending, p.src.comments[p.next].Text)
	}
}

// trailing puts the comments before pos that do not begin a line at the end
// of the current line.
func (p *printer) trailing(pos Pos) {
	for ; p.commentBefore(pos) && p.gap(p.src.comments[p.next].Pos) == 0; p.next++ {
		p.pending = append(p.pending, p.src.comments[p.next].Text)
	}
}

// ownLines writes the comments before pos on lines of their own, keeping
// one blank line where there was one (after the first of n things).
func (p *printer) ownLines(pos Pos, n *int) {
	for ; p.commentBefore(pos); p.next++ {
		c := p.src.comments[p.next]
		p.ownComment(c.Text, *n > 0 && p.gap(c.Pos) >= 2)
		*n++
	}
}

// split takes the comments before pos in a list: those that begin a line
// after a comma (or the opening bracket) are returned, to go on lines of
// their own; the others go at the end of the current line.
func (p *printer) split(pos Pos) (own []*Comment) {
	for ; p.commentBefore(pos); p.next++ {
		c := p.src.comments[p.next]
		switch p.prevToken(c.Pos) {
		case ",", "(", "[":
			if p.gap(c.Pos) > 0 {
				own = append(own, c)
				continue
			}
		}
		p.pending = append(p.pending, c.Text)
	}
	return own
}

// The source's line breaks.

// gap is the number of line breaks between pos and the token or comment
// before it (its line number at the start of the file).
func (p *printer) gap(pos Pos) int {
	i := p.mark(pos)
	if i == 0 {
		return pos.Line
	}
	return pos.Line - p.src.marks[i-1].pos.Line
}

// prevToken is the token before pos, comments skipped.
func (p *printer) prevToken(pos Pos) string {
	for i := p.mark(pos) - 1; i >= 0; i-- {
		if m := p.src.marks[i]; !m.comment {
			return m.text
		}
	}
	return ""
}

// mark is the index of the token or comment at pos.
func (p *printer) mark(pos Pos) int {
	return sort.Search(len(p.src.marks), func(i int) bool { return !p.src.marks[i].pos.Before(pos) })
}

// bytes renders the lines, aligning the trailing comments of consecutive
// lines.
func (p *printer) bytes() []byte {
	var b strings.Builder
	width := func(l fline) int { return 2*l.indent + utf8.RuneCountInString(l.code) }
	for i := 0; i < len(p.lines); {
		// A run of consecutive lines with code and a trailing comment.
		j := i
		col := 0
		for j < len(p.lines) && p.lines[j].code != "" && p.lines[j].comment != "" && (j == i || !p.lines[j].blankBef) {
			col = max(col, width(p.lines[j]))
			j++
		}
		if j == i {
			j = i + 1
		}
		for _, l := range p.lines[i:j] {
			if l.blankBef && b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(strings.Repeat("  ", l.indent))
			b.WriteString(l.code)
			if l.comment != "" {
				if l.code != "" {
					b.WriteString(strings.Repeat(" ", col-width(l)+1))
				}
				b.WriteString(l.comment)
			}
			b.WriteByte('\n')
		}
		i = j
	}
	return []byte(b.String())
}

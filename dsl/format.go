package dsl

import (
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
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
func Format(filename string, src []byte) ([]byte, error) {
	if _, err := Parse(filename, src); err != nil {
		return nil, err
	}
	toks, err := scan(filename, src, true)
	if err != nil { // cannot happen: Parse lexed the same source
		return nil, syntaxError(filename, src, err)
	}
	root := &fnode{}
	stack := []*fnode{root}
	for _, t := range toks {
		top := stack[len(stack)-1]
		switch {
		case t.Type == tokEOF:
		case t.Type == tokPunct && (t.Value == "{" || t.Value == "(" || t.Value == "["):
			g := &fnode{tok: t, group: true}
			top.kids = append(top.kids, g)
			stack = append(stack, g)
		case t.Type == tokPunct && (t.Value == "}" || t.Value == ")" || t.Value == "]"):
			stack = stack[:len(stack)-1]
		default:
			top.kids = append(top.kids, &fnode{tok: t})
		}
	}
	w := &fwriter{}
	w.braceItems(root.kids, 0, true)
	w.newline()
	return w.bytes(), nil
}

// fnode is a token, or a bracketed group of tokens (tok is its opening
// bracket).
type fnode struct {
	tok   lexer.Token
	group bool
	kids  []*fnode
}

func (n *fnode) is(typ lexer.TokenType, val string) bool {
	return !n.group && n.tok.Type == typ && n.tok.Value == val
}

func (n *fnode) isBrace() bool { return n.group && n.tok.Value == "{" }

func (n *fnode) isBreak() bool {
	return !n.group && (n.tok.Type == tokNewline || n.tok.Type == tokComment)
}

// hasBreak reports whether a newline or comment occurs inside n, at any depth.
func (n *fnode) hasBreak() bool {
	for _, k := range n.kids {
		if k.isBreak() || k.group && k.hasBreak() {
			return true
		}
	}
	return false
}

// fitem is one statement of a brace-level list (an experiment, import,
// block, setting, vary, axis, variant) or an own-line comment.
type fitem struct {
	nodes    []*fnode
	after    map[int][]string // trailing comments after nodes[i]
	comment  string           // an own-line comment (nodes is empty)
	blankBef bool             // a blank line precedes it
}

// splitItems splits the contents of a brace group (or a file) into
// statements and own-line comments. open lists comments on the line of the
// opening brace, before any statement.
func splitItems(kids []*fnode, atLineStart bool) (items []*fitem, open []string) {
	var cur *fitem
	newlines := 0
	end := func() {
		if cur != nil {
			items = append(items, cur)
			cur = nil
		}
	}
	attach := func(it *fitem, c string) {
		if it.after == nil {
			it.after = map[int][]string{}
		}
		i := len(it.nodes) - 1
		it.after[i] = append(it.after[i], c)
	}
	for i := 0; i < len(kids); i++ {
		k := kids[i]
		switch {
		case k.is(tokNewline, "\n"):
			newlines++
			atLineStart = true
			if cur == nil {
				continue
			}
			// A newline between a header and its "{" does not end it.
			j := i + 1
			for j < len(kids) && kids[j].isBreak() {
				j++
			}
			if j < len(kids) && kids[j].isBrace() {
				for _, c := range kids[i+1 : j] {
					if c.tok.Type == tokComment {
						attach(cur, commentText(c.tok.Value))
					}
				}
				i = j - 1
				atLineStart = false
				continue
			}
			end()
		case k.is(tokPunct, ";"):
			end()
			atLineStart, newlines = false, 0
		case !k.group && k.tok.Type == tokComment:
			text := commentText(k.tok.Value)
			switch {
			case atLineStart:
				end()
				items = append(items, &fitem{comment: text, blankBef: newlines >= 2 && len(items) > 0})
			case cur != nil:
				attach(cur, text)
			case len(items) > 0:
				attach(items[len(items)-1], text)
			default:
				open = append(open, text)
			}
			atLineStart, newlines = false, 0
		default:
			if cur == nil {
				cur = &fitem{blankBef: newlines >= 2 && len(items) > 0}
			}
			cur.nodes = append(cur.nodes, k)
			atLineStart, newlines = false, 0
			if k.isBrace() { // a block ends its statement
				end()
			}
		}
	}
	end()
	return items, open
}

func commentText(s string) string { return strings.TrimRight(s, " \t\r") }

// fline is one output line.
type fline struct {
	indent   int
	code     string
	comment  string
	blankBef bool
}

// fwriter builds the output line by line.
type fwriter struct {
	lines     []fline
	cur       strings.Builder
	curIndent int
	indent    int
	prev      string   // the last word written on the current line
	claims    bool     // in an expect block: a selector's "[" follows its metric without a space
	pending   []string // comments for the end of the current line
	blank     bool     // put a blank line before the next line
}

// word writes a token, with a space before it where the spacing rules ask
// for one.
func (w *fwriter) word(s string) {
	// In a claim, a number glued to its sign after a term is an addition:
	// `x +50` is written `x + 50`.
	if w.claims && len(s) > 1 && (s[0] == '+' || s[0] == '-') && (w.prev == ")" || w.prev == "]" || isWord(w.prev)) {
		w.word(s[:1])
		s = s[1:]
	}
	glued := w.claims && s == "[" && (w.prev == ")" || isWord(w.prev))
	if w.cur.Len() == 0 {
		w.curIndent = w.indent
	} else if space(w.prev, s) && !glued {
		w.cur.WriteByte(' ')
	}
	w.cur.WriteString(s)
	w.prev = s
}

// isWord reports whether s ends in a letter, digit or underscore.
func isWord(s string) bool {
	if s == "" {
		return false
	}
	c := s[len(s)-1]
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
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
func (w *fwriter) newline() {
	if w.cur.Len() == 0 && len(w.pending) == 0 {
		return
	}
	l := fline{indent: w.curIndent, code: w.cur.String(), blankBef: w.blank}
	if w.cur.Len() == 0 {
		l.indent = w.indent
	}
	if len(w.pending) > 0 {
		l.comment = w.pending[0]
	}
	w.lines = append(w.lines, l)
	for _, c := range w.pending[min(1, len(w.pending)):] {
		w.lines = append(w.lines, fline{indent: w.indent, comment: c})
	}
	w.cur.Reset()
	w.prev, w.pending, w.blank = "", nil, false
}

// ownComment writes a comment on a line of its own.
func (w *fwriter) ownComment(c string, blank bool) {
	w.newline()
	w.lines = append(w.lines, fline{indent: w.indent, comment: c, blankBef: blank})
}

// braceItems writes the statements of a file (depth 0) or of a brace group.
func (w *fwriter) braceItems(kids []*fnode, depth int, atLineStart bool) {
	items, open := splitItems(kids, atLineStart)
	w.pending = append(w.pending, open...)
	w.newline()
	for _, it := range items {
		if it.nodes == nil {
			w.ownComment(it.comment, it.blankBef)
			continue
		}
		w.newline()
		w.blank = it.blankBef
		w.statement(it, depth)
		w.newline()
	}
}

// statement writes one statement at brace level depth.
func (w *fwriter) statement(it *fitem, depth int) {
	for i, n := range it.nodes {
		switch {
		case n.isBrace():
			// Experiment bodies and variants blocks are always written out.
			force := depth == 0 || depth == 1 && it.nodes[0].is(tokIdent, "variants")
			expect := depth == 1 && it.nodes[0].is(tokIdent, "expect")
			w.claims = w.claims || expect
			w.brace(n, depth+1, force)
			w.claims = w.claims && !expect
		case n.group:
			w.bracket(n)
		default:
			w.word(n.tok.Value)
		}
		w.pending = append(w.pending, it.after[i]...)
	}
}

// brace writes a { ... } group whose statements are at depth.
func (w *fwriter) brace(g *fnode, depth int, force bool) {
	items, open := splitItems(g.kids, false)
	if len(items) == 0 && len(open) == 0 {
		w.word("{}")
		return
	}
	if !force && inline(g) {
		w.word("{")
		w.statement(items[0], depth)
		w.word("}")
		return
	}
	w.word("{")
	w.indent++
	w.braceItems(g.kids, depth, false)
	w.indent--
	w.word("}")
}

// inline reports whether a brace group with at most one statement, written
// on one line, can stay on one line: so can every block inside it.
func inline(g *fnode) bool {
	if g.hasBreak() {
		return false
	}
	items, _ := splitItems(g.kids, false)
	if len(items) > 1 {
		return false
	}
	for _, it := range items {
		for _, n := range it.nodes {
			if n.isBrace() && !inline(n) {
				return false
			}
		}
	}
	return true
}

// felem is one comma-separated element of a ( ... ) or [ ... ] group.
type felem struct {
	nodes    []*fnode
	after    map[int][]string // comments after nodes[i]; after[len(nodes)] follow its comma
	before   []string         // own-line comments before it
	newLine  bool             // it starts a line in the source
	blankBef bool
}

// bracket writes a ( ... ) or [ ... ] group. Written on one line in the
// source, it stays on one line; else its line breaks after commas are kept.
func (w *fwriter) bracket(g *fnode) {
	closer := map[string]string{"(": ")", "[": "]"}[g.tok.Value]
	multi := false
	for _, k := range g.kids {
		if k.isBreak() {
			multi = true
		}
	}
	var elems []*felem
	var tail []string // own-line comments after the last element
	cur := &felem{}
	newlines, atLineStart := 0, false
	var open []string // comments on the line of the opening bracket
	last := func() *felem {
		if len(cur.nodes) > 0 || len(elems) == 0 {
			return cur
		}
		return elems[len(elems)-1]
	}
	attach := func(e *felem, i int, c string) {
		if e.after == nil {
			e.after = map[int][]string{}
		}
		e.after[i] = append(e.after[i], c)
	}
	for _, k := range g.kids {
		switch {
		case k.is(tokNewline, "\n"):
			newlines++
			atLineStart = true
		case k.is(tokPunct, ","):
			elems = append(elems, cur)
			cur = &felem{}
			atLineStart, newlines = false, 0
		case !k.group && k.tok.Type == tokComment:
			text := commentText(k.tok.Value)
			switch {
			case len(cur.nodes) > 0:
				attach(cur, len(cur.nodes)-1, text)
			case atLineStart:
				cur.before = append(cur.before, text)
				cur.blankBef = cur.blankBef || newlines >= 2 && len(elems) > 0
			case len(elems) > 0:
				e := last()
				attach(e, len(e.nodes), text)
			default:
				open = append(open, text)
			}
			atLineStart, newlines = false, 0
		default:
			if len(cur.nodes) == 0 {
				cur.newLine = atLineStart
				if len(cur.before) == 0 {
					cur.blankBef = newlines >= 2 && len(elems) > 0
				}
			}
			cur.nodes = append(cur.nodes, k)
			atLineStart, newlines = false, 0
		}
	}
	if len(cur.nodes) > 0 {
		elems = append(elems, cur)
	} else {
		tail = cur.before
	}

	w.word(g.tok.Value)
	if !multi {
		for i, e := range elems {
			if i > 0 {
				w.word(",")
			}
			w.nodes(e, false)
		}
		w.word(closer)
		return
	}
	w.pending = append(w.pending, open...)
	w.newline()
	w.indent++
	for i, e := range elems {
		for j, c := range e.before {
			w.ownComment(c, j == 0 && e.blankBef)
		}
		if i == 0 || e.newLine || len(e.before) > 0 {
			w.newline()
			w.blank = w.blank || e.blankBef && len(e.before) == 0
		}
		w.nodes(e, true)
	}
	for _, c := range tail {
		w.ownComment(c, false)
	}
	w.newline()
	w.indent--
	w.word(closer)
}

// nodes writes the tokens of an element, its comma when inside a
// multi-line group, and its comments.
func (w *fwriter) nodes(e *felem, comma bool) {
	for i, n := range e.nodes {
		if n.group {
			w.bracket(n)
		} else {
			w.word(n.tok.Value)
		}
		w.pending = append(w.pending, e.after[i]...)
	}
	if comma {
		w.word(",")
	}
	w.pending = append(w.pending, e.after[len(e.nodes)]...)
}

// bytes renders the lines, aligning the trailing comments of consecutive
// lines.
func (w *fwriter) bytes() []byte {
	var b strings.Builder
	width := func(l fline) int { return 2*l.indent + utf8.RuneCountInString(l.code) }
	for i := 0; i < len(w.lines); {
		// A run of consecutive lines with code and a trailing comment.
		j := i
		col := 0
		for j < len(w.lines) && w.lines[j].code != "" && w.lines[j].comment != "" && (j == i || !w.lines[j].blankBef) {
			col = max(col, width(w.lines[j]))
			j++
		}
		if j == i {
			j = i + 1
		}
		for _, l := range w.lines[i:j] {
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

package dsl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The participle grammar. These types are private: Parse converts them to
// the plain syntax tree of ast.go.

type gFile struct {
	Imports     []*gImport     `parser:"(NL|\";\")* ( @@ (NL|\";\")* )*"`
	Experiments []*gExperiment `parser:"( @@ (NL|\";\")* )*"`
}

type gImport struct {
	Pos  lexer.Position
	Path *gString `parser:"\"import\" @@ (?= NL | \";\" | EOF)"`
}

type gString struct {
	Pos   lexer.Position
	Value string `parser:"@String"`
}

type gExperiment struct {
	Pos     lexer.Position
	Name    *gName   `parser:"\"experiment\" @@"`
	Extends *gName   `parser:"( \"extends\" @@ )?"`
	Items   []*gItem `parser:"NL? \"{\" (NL|\";\")* ( @@ (NL|\";\")* )* \"}\""`
}

type gName struct {
	Pos  lexer.Position
	Name string `parser:"@Ident"`
}

type gItem struct {
	Vary     *gVary     `parser:"@@"`
	Variants *gVariants `parser:"| @@"`
	Entry    *gEntry    `parser:"| @@"`
}

type gVariants struct {
	Pos  lexer.Position
	List []*gVariant `parser:"\"variants\" NL? \"{\" (NL|\";\")* ( @@ (NL|\";\")* )* \"}\"  (?= NL | \";\" | \"}\") (NL | \";\")?"`
}

// gVariant is `name { blocks }`; vary and variants inside are parsed to be
// reported as errors.
type gVariant struct {
	Pos   lexer.Position
	Name  string   `parser:"@Ident"`
	Items []*gItem `parser:"NL? \"{\" (NL|\";\")* ( @@ (NL|\";\")* )* \"}\"  (?= NL | \";\" | \"}\") (NL | \";\")?"`
}

// gEntry is a block `name { ... }` or a stray setting `key value`.
type gEntry struct {
	Pos      lexer.Position
	Name     string      `parser:"@Ident"`
	Settings []*gSetting `parser:"( NL? \"{\" (NL|\";\")* ( @@ (NL|\";\")* )* \"}\"  (?= NL | \";\" | \"}\") (NL | \";\")?"`
	Value    *gValue     `parser:"| @@  (?= NL | \";\" | \"}\") (NL | \";\")? )"`
}

type gSetting struct {
	Pos   lexer.Position
	Key   string  `parser:"@Ident"`
	Value *gValue `parser:"@@  (?= NL | \";\" | \"}\") (NL | \";\")?"`
}

type gVary struct {
	Pos  lexer.Position
	Zip  []*gAxis `parser:"\"vary\" ( \"zip\" \"{\" (NL|\";\")* ( @@  (?= NL | \";\" | \"}\") (NL | \";\")? (NL|\";\")* )* \"}\""`
	Axis *gAxis   `parser:"| @@ )  (?= NL | \";\" | \"}\") (NL | \";\")?"`
}

type gAxis struct {
	Pos    lexer.Position
	Path   []string `parser:"@Ident ( \".\" @Ident )*"`
	Values *gList   `parser:"@@"`
}

type gValue struct {
	Pos    lexer.Position
	List   *gList  `parser:"@@"`
	Call   *gCall  `parser:"| @@"`
	Number *string `parser:"| @Number"`
	String *string `parser:"| @String"`
}

type gList struct {
	Pos   lexer.Position
	Elems []*gValue `parser:"\"[\" ( @@ ( \",\" @@ )* \",\"? )? \"]\""`
}

type gCall struct {
	Pos   lexer.Position
	Name  string   `parser:"@Ident"`
	Paren *gParens `parser:"@@?"`
}

type gParens struct {
	Args []*gArg `parser:"\"(\" ( @@ ( \",\" @@ )* \",\"? )? \")\""`
}

type gArg struct {
	Pos   lexer.Position
	Name  string  `parser:"@Ident \":\""`
	Value *gValue `parser:"@@"`
}

var parser = participle.MustBuild[gFile](
	participle.Lexer(definition{}),
	participle.UseLookahead(4),
	participle.ParseTypeWith[endMarker](nil),
)

// endMarker is unused; see grammar rules  ( NL | ";" | (?= "}") ) and Sep below.
type endMarker interface{ end() }

// Parse parses one .sink file. The error is a *Error or an ErrorList, each
// with a position. Parse never panics.
func Parse(filename string, src []byte) (f *File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, &Error{Pos: Pos{File: filename, Line: 1, Col: 1}, Msg: fmt.Sprintf("internal error while parsing: %v", r)}
		}
	}()
	toks, errs := lex(filename, src)
	if len(errs) > 0 {
		return nil, errs.err()
	}
	g, perr := parser.ParseFromLexer(mustUpgrade(toks))
	if perr != nil {
		return nil, convertParseError(filename, perr, toks)
	}
	f, cerrs := convert(filename, g)
	if len(cerrs) > 0 {
		return nil, cerrs.err()
	}
	return f, nil
}

func mustUpgrade(toks []lexer.Token) *lexer.PeekingLexer {
	pl, err := lexer.Upgrade(&sliceLexer{toks: toks})
	if err != nil {
		panic(err) // sliceLexer never fails
	}
	return pl
}

func convertParseError(filename string, err error, toks []lexer.Token) error {
	pe, ok := err.(participle.Error)
	if !ok {
		return &Error{Pos: Pos{File: filename, Line: 1, Col: 1}, Msg: err.Error()}
	}
	msg := pe.Message()
	pos := toPos(pe.Position())
	if ute, ok := err.(*participle.UnexpectedTokenError); ok {
		if after, ok := afterBlock(ute.Unexpected, toks); ok {
			return &Error{Pos: toPos(after.Pos), Msg: "unexpected " + describeToken(after) + `: end the previous block with a newline or ";" first`}
		}
		msg = unexpectedMessage(ute.Unexpected, msg, toks)
	}
	if pos.File == "" {
		pos.File = filename
	}
	return &Error{Pos: pos, Msg: msg}
}

// afterBlock finds the real culprit when the parser stops at the name of a
// complete block, variant or experiment (`name { ... }`, the braces
// balanced): the token after its closing brace, when that token cannot
// follow a block (participle reports where the failed statement began).
func afterBlock(t lexer.Token, toks []lexer.Token) (lexer.Token, bool) {
	idx := -1
	for i, u := range toks {
		if u.Pos.Offset == t.Pos.Offset && u.Type == t.Type {
			idx = i
			break
		}
	}
	if idx < 0 || t.Type != tokIdent {
		return t, false
	}
	open := 0 // experiments may follow each other on a line: only look inside braces
	for _, u := range toks[:idx] {
		if u.Type == tokPunct && u.Value == "{" {
			open++
		} else if u.Type == tokPunct && u.Value == "}" {
			open--
		}
	}
	if open <= 0 {
		return t, false
	}
	j := idx + 1
	for j < len(toks) && (toks[j].Type == tokIdent || toks[j].Value == ".") { // experiment a extends b
		j++
	}
	if j < len(toks) && toks[j].Type == tokNewline {
		j++
	}
	if j >= len(toks) || toks[j].Type != tokPunct || toks[j].Value != "{" {
		return t, false
	}
	depth := 0
	for ; j < len(toks); j++ {
		if toks[j].Type != tokPunct {
			continue
		}
		switch toks[j].Value {
		case "{":
			depth++
		case "}":
			depth--
		}
		if depth == 0 {
			break
		}
	}
	if j+1 >= len(toks) {
		return t, false
	}
	next := toks[j+1]
	switch {
	case next.Type == tokNewline, next.Type == tokEOF, next.Type == tokPunct && (next.Value == ";" || next.Value == "}"):
		return t, false
	}
	return next, true
}

// unexpectedMessage rewrites participle's "unexpected token X (expected
// <grammar>)" into words a user of the language understands.
func unexpectedMessage(t lexer.Token, raw string, toks []lexer.Token) string {
	return unexpectedText(t, raw, toks) + keywordHint(t, toks)
}

func unexpectedText(t lexer.Token, raw string, toks []lexer.Token) string {
	expect := ""
	if i := strings.Index(raw, " (expected "); i >= 0 {
		expect = strings.TrimSuffix(raw[i+len(" (expected "):], ")")
	}
	what := "unexpected " + describeToken(t)
	// Where is t? Its index, brace depth and the token before it.
	idx, depth := -1, 0
	for i, u := range toks {
		if u.Pos.Offset == t.Pos.Offset && u.Type == t.Type {
			idx = i
			break
		}
		switch u.Value {
		case "{":
			if u.Type == tokPunct {
				depth++
			}
		case "}":
			if u.Type == tokPunct {
				depth--
			}
		}
	}
	var prev, prev2 lexer.Token
	if idx > 0 {
		prev = toks[idx-1]
	}
	if idx > 1 {
		prev2 = toks[idx-2]
	}
	isImport := func(u lexer.Token) bool { return u.Type == tokIdent && u.Value == "import" }
	switch {
	case depth == 0 && isImport(t):
		return what + `: imports come first in a file, before any experiment`
	case depth == 0 && isImport(prev):
		return what + `, expected the imported file in double quotes: import "base.sink"`
	case depth == 0 && prev.Type == tokString && isImport(prev2):
		return what + `: end the import with a newline or ";" first`
	case strings.HasPrefix(expect, "GValue"):
		return what + ", expected a value"
	case strings.HasPrefix(expect, "GName"):
		return what + ", expected a name"
	case strings.HasPrefix(expect, `":"`):
		return what + `, expected ":" after the argument name (write name: value)`
	case strings.HasPrefix(expect, "GList"):
		return what + ", expected a list of values [v1, v2, ...]"
	case expect == `"]"` || strings.HasPrefix(expect, `"," GValue`) && strings.Contains(raw, "]"):
		return what + `, expected "," or "]"`
	case expect == `")"`:
		return what + `, expected "," or ")"`
	case strings.HasPrefix(expect, `"{"`):
		return what + `, expected "{"`
	case depth > 0 && t.Type != tokIdent && (prev.Type == tokNewline || prev.Value == ";" || prev.Value == "{"):
		return what + ", expected a setting name"
	case strings.Contains(expect, "(?="):
		return what + `: end the setting with a newline or ";" first`
	case expect != "":
		e := strings.NewReplacer("GArg", "name: value", "GAxis", "path [values]", "GValue", "value", "GName", "name", "<nl>", "newline").Replace(expect)
		return what + " (expected " + e + ")"
	case depth == 0 && t.Type != tokEOF:
		return what + `, expected "experiment NAME { ... }"`
	case depth > 0 && idx > 0 && prev.Type != tokNewline && prev.Value != ";" && prev.Value != "{":
		return what + `: end the previous setting with a newline or ";" first`
	}
	return what
}

func describeToken(t lexer.Token) string {
	switch t.Type {
	case tokEOF:
		return "end of file"
	case tokNewline:
		return "end of line"
	case tokNumber:
		return "number " + t.Value
	case tokString:
		return "string " + truncate(t.Value)
	}
	return strconv.Quote(t.Value)
}

func convert(filename string, g *gFile) (*File, ErrorList) {
	f := &File{Name: filename}
	var errs ErrorList
	for _, gi := range g.Imports {
		path, _ := strconv.Unquote(gi.Path.Value) // validated by the lexer
		f.Imports = append(f.Imports, &Import{Pos: toPos(gi.Pos), Path: path, PathPos: toPos(gi.Path.Pos)})
	}
	for _, ge := range g.Experiments {
		e := &Experiment{Pos: toPos(ge.Pos), Name: ge.Name.Name, NamePos: toPos(ge.Name.Pos)}
		if ge.Extends != nil {
			e.Extends, e.ExtendsPos = ge.Extends.Name, toPos(ge.Extends.Pos)
		}
		for _, it := range ge.Items {
			switch {
			case it.Vary != nil:
				e.Varies = append(e.Varies, convertVary(it.Vary))
			case it.Variants != nil:
				v := &Vary{Pos: toPos(it.Variants.Pos), IsVariants: true, Variants: []*Variant{}}
				for _, gv := range it.Variants.List {
					v.Variants = append(v.Variants, convertVariant(gv, &errs))
				}
				e.Varies = append(e.Varies, v)
			case it.Entry.Value != nil:
				e.Stray = append(e.Stray, convertStray(it.Entry))
			default:
				e.Blocks = append(e.Blocks, convertBlock(it.Entry))
			}
		}
		f.Experiments = append(f.Experiments, e)
	}
	return f, errs
}

func convertVary(gv *gVary) *Vary {
	v := &Vary{Pos: toPos(gv.Pos)}
	if gv.Axis != nil {
		v.Axes = []*Axis{convertAxis(gv.Axis)}
	} else {
		v.Zip = true
		for _, a := range gv.Zip {
			v.Axes = append(v.Axes, convertAxis(a))
		}
	}
	return v
}

func convertVariant(gv *gVariant, errs *ErrorList) *Variant {
	v := &Variant{Pos: toPos(gv.Pos), Name: gv.Name}
	for _, it := range gv.Items {
		switch {
		case it.Vary != nil:
			*errs = append(*errs, &Error{Pos: toPos(it.Vary.Pos), Msg: fmt.Sprintf(
				"vary inside variant %q: a variant is a set of settings, not a grid; put the vary in the experiment (it combines with the variants as a product)", gv.Name)})
		case it.Variants != nil:
			*errs = append(*errs, &Error{Pos: toPos(it.Variants.Pos), Msg: fmt.Sprintf(
				"variants inside variant %q: variants do not nest; list every variant in one variants block", gv.Name)})
		case it.Entry.Value != nil:
			v.Stray = append(v.Stray, convertStray(it.Entry))
		default:
			v.Blocks = append(v.Blocks, convertBlock(it.Entry))
		}
	}
	return v
}

func convertStray(ge *gEntry) *Setting {
	return &Setting{Pos: toPos(ge.Pos), Key: ge.Name, Value: convertValue(ge.Value)}
}

func convertBlock(ge *gEntry) *Block {
	b := &Block{Pos: toPos(ge.Pos), Name: ge.Name}
	for _, s := range ge.Settings {
		b.Settings = append(b.Settings, &Setting{Pos: toPos(s.Pos), Key: s.Key, Value: convertValue(s.Value)})
	}
	return b
}

func convertAxis(a *gAxis) *Axis {
	return &Axis{Pos: toPos(a.Pos), Path: strings.Join(a.Path, "."), Values: convertValue(&gValue{Pos: a.Values.Pos, List: a.Values}).(*List)}
}

func convertValue(v *gValue) Expr {
	p := toPos(v.Pos)
	switch {
	case v.List != nil:
		l := &List{Pos: p}
		for _, e := range v.List.Elems {
			l.Elems = append(l.Elems, convertValue(e))
		}
		return l
	case v.Call != nil:
		if v.Call.Paren == nil {
			return &Ident{Pos: p, Name: v.Call.Name}
		}
		c := &Call{Pos: p, Name: v.Call.Name}
		for _, a := range v.Call.Paren.Args {
			c.Args = append(c.Args, &Arg{Pos: toPos(a.Pos), Name: a.Name, Value: convertValue(a.Value)})
		}
		return c
	case v.Number != nil:
		n := &Number{Pos: p, Text: *v.Number}
		n.Float, _ = strconv.ParseFloat(n.Text, 64) // validated by the lexer
		if i, err := strconv.ParseInt(strings.TrimPrefix(n.Text, "+"), 10, 64); err == nil {
			n.IsInt, n.Int = true, i
		}
		return n
	default:
		s, _ := strconv.Unquote(*v.String) // validated by the lexer
		return &String{Pos: p, Value: s}
	}
}

// keywordHint suggests a keyword when a syntax error follows a misspelt one:
// the unexpected token itself (`improt`, `extend`, `vary zpi`), the first
// word of its statement in an experiment body (`vray model.x [...]`), or the
// name of the block it is in (`varaints { ... }`).
func keywordHint(t lexer.Token, toks []lexer.Token) string {
	idx := -1
	for i, u := range toks {
		if u.Pos.Offset == t.Pos.Offset && u.Type == t.Type {
			idx = i
			break
		}
	}
	if idx < 0 {
		return ""
	}
	// Depth of every open brace before t, to find t's statement and block.
	var opens []int // indices of the open "{" around t
	for i, u := range toks[:idx] {
		if u.Type == tokPunct && u.Value == "{" {
			opens = append(opens, i)
		} else if u.Type == tokPunct && u.Value == "}" && len(opens) > 0 {
			opens = opens[:len(opens)-1]
		}
	}
	hint := func(w lexer.Token, keywords ...string) string {
		for _, k := range keywords {
			if w.Value != k && closeTo(w.Value, k) {
				if w.Pos.Offset == t.Pos.Offset {
					return fmt.Sprintf(" (did you mean %q?)", k)
				}
				return fmt.Sprintf(" (did you mean %q instead of %q at line %d, column %d?)", k, w.Value, w.Pos.Line, w.Pos.Column)
			}
		}
		return ""
	}
	at := func(i int) lexer.Token {
		if i < 0 || i >= len(toks) {
			return lexer.Token{}
		}
		return toks[i]
	}
	if t.Type == tokIdent {
		switch {
		case len(opens) == 0 && at(idx-2).Value == "experiment":
			if h := hint(t, "extends"); h != "" {
				return h
			}
		case len(opens) == 0:
			if h := hint(t, "experiment", "import"); h != "" {
				return h
			}
		case at(idx-1).Value == "vary":
			if h := hint(t, "zip"); h != "" {
				return h
			}
		}
	}
	if at(idx-2).Value == "vary" && at(idx-1).Type == tokIdent && t.Value == "{" {
		if h := hint(at(idx-1), "zip"); h != "" {
			return h
		}
	}
	if len(opens) == 1 { // in an experiment body: the statement's first word
		s := idx
		for s > 0 && !(toks[s-1].Type == tokNewline || toks[s-1].Type == tokPunct && (toks[s-1].Value == ";" || toks[s-1].Value == "{" || toks[s-1].Value == "}")) {
			s--
		}
		if w := toks[s]; w.Type == tokIdent && s != idx {
			if h := hint(w, "vary", "variants"); h != "" {
				return h
			}
		}
	}
	if len(opens) >= 2 { // in a block: its name
		o := opens[len(opens)-1]
		n := at(o - 1)
		if n.Type == tokNewline {
			n = at(o - 2)
		}
		if n.Type == tokIdent && len(opens) == 2 {
			return hint(n, "variants")
		}
	}
	return ""
}

// closeTo reports whether a is within a small edit distance of b (optimal
// string alignment: insertions, deletions, substitutions, transpositions).
func closeTo(a, b string) bool {
	if len(a) > 32 {
		return false
	}
	limit := 2
	if len(b) <= 4 {
		limit = 1
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)] <= limit
}

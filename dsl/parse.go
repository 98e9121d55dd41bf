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
	Experiments []*gExperiment `parser:"(NL|\";\")* ( @@ (NL|\";\")* )*"`
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
	Vary  *gVary  `parser:"@@"`
	Entry *gEntry `parser:"| @@"`
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
	return convert(filename, g), nil
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
	if ute, ok := err.(*participle.UnexpectedTokenError); ok {
		msg = unexpectedMessage(ute.Unexpected, msg, toks)
	}
	pos := toPos(pe.Position())
	if pos.File == "" {
		pos.File = filename
	}
	return &Error{Pos: pos, Msg: msg}
}

// unexpectedMessage rewrites participle's "unexpected token X (expected
// <grammar>)" into words a user of the language understands.
func unexpectedMessage(t lexer.Token, raw string, toks []lexer.Token) string {
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
	var prev lexer.Token
	if idx > 0 {
		prev = toks[idx-1]
	}
	switch {
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

func convert(filename string, g *gFile) *File {
	f := &File{Name: filename}
	for _, ge := range g.Experiments {
		e := &Experiment{Pos: toPos(ge.Pos), Name: ge.Name.Name, NamePos: toPos(ge.Name.Pos)}
		if ge.Extends != nil {
			e.Extends, e.ExtendsPos = ge.Extends.Name, toPos(ge.Extends.Pos)
		}
		for _, it := range ge.Items {
			switch {
			case it.Vary != nil:
				v := &Vary{Pos: toPos(it.Vary.Pos)}
				if it.Vary.Axis != nil {
					v.Axes = []*Axis{convertAxis(it.Vary.Axis)}
				} else {
					v.Zip = true
					for _, a := range it.Vary.Zip {
						v.Axes = append(v.Axes, convertAxis(a))
					}
				}
				e.Varies = append(e.Varies, v)
			case it.Entry.Value != nil:
				e.Stray = append(e.Stray, &Setting{Pos: toPos(it.Entry.Pos), Key: it.Entry.Name, Value: convertValue(it.Entry.Value)})
			default:
				b := &Block{Pos: toPos(it.Entry.Pos), Name: it.Entry.Name}
				for _, s := range it.Entry.Settings {
					b.Settings = append(b.Settings, &Setting{Pos: toPos(s.Pos), Key: s.Key, Value: convertValue(s.Value)})
				}
				e.Blocks = append(e.Blocks, b)
			}
		}
		f.Experiments = append(f.Experiments, e)
	}
	return f
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

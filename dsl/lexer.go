package dsl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// rawLexer splits a .sink file into tokens with participle's regular
// expression lexer. It accepts anything: bad input comes out as tokens
// (Invalid, an unterminated String, a malformed Number) that lex turns into
// positioned errors.
var rawLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `(?:#|//)[^\n]*`},
	{Name: "NL", Pattern: `\n`},
	{Name: "space", Pattern: `[ \t\r]+`},
	// The closing quote is optional so that an unterminated string is one
	// token, reported as such.
	{Name: "String", Pattern: `"(?:[^"\\\n]|\\[^\n])*"?`},
	// A number and whatever letters, digits and dots are glued to it:
	// "12abc" is a typo, reported as one malformed number.
	{Name: "Number", Pattern: `(?:\d|[-+.][\d.])(?:[eE][-+]\d|[\w.])*`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Punct", Pattern: `<=|>=|[{}()\[\]:;,.<>+-]`},
	{Name: "Invalid", Pattern: `(?s:.)`},
})

// Token types, as the lexer numbers them.
var (
	tokEOF     = lexer.EOF
	tokComment = rawLexer.Symbols()["Comment"]
	tokNewline = rawLexer.Symbols()["NL"]
	tokString  = rawLexer.Symbols()["String"]
	tokNumber  = rawLexer.Symbols()["Number"]
	tokIdent   = rawLexer.Symbols()["Ident"]
	tokPunct   = rawLexer.Symbols()["Punct"]
	tokInvalid = rawLexer.Symbols()["Invalid"]
)

// maxDepth bounds the nesting of (), [] and {}.
const maxDepth = 32

// source is a lexed file: the parser's tokens, and what the printer needs
// of the rest (comments, and where lines break).
type source struct {
	// tokens are the parser's: no comments, a newline only where it can end
	// a statement (at the top level and in {...}, not in (...) or [...],
	// where a value may span lines) and one for a run of them; EOF last.
	tokens   []lexer.Token
	comments []*Comment
	// marks are every token but newlines, comments included, in order.
	marks []mark
	// broken holds, by position of an opening bracket, whether a newline or
	// comment occurs inside the group directly (not only inside a group
	// nested in it), or anywhere.
	broken map[Pos]breaks
}

type mark struct {
	pos     Pos
	text    string
	comment bool
}

type breaks struct{ direct, any bool }

// lex reads src, returning the first bad token (an invalid character,
// malformed literal or mismatched bracket) as an *Error.
func lex(filename string, src []byte) (*source, error) {
	raw, err := rawLexer.LexString(filename, string(src))
	if err != nil {
		return nil, err
	}
	s := &source{broken: map[Pos]breaks{}}
	var open []lexer.Token // open brackets, innermost last
	for {
		t, err := raw.Next()
		if err != nil {
			return nil, err
		}
		if err := check(t, &open); err != nil {
			return nil, err
		}
		s.add(t, open)
		if t.Type == tokEOF {
			return s, nil
		}
	}
}

// add files a checked token, open being the brackets it is in.
func (s *source) add(t lexer.Token, open []lexer.Token) {
	p := toPos(t.Pos)
	switch t.Type {
	case tokComment:
		s.breakLines(open)
		text := strings.TrimRight(t.Value, " \t\r")
		s.comments = append(s.comments, &Comment{Pos: p, Text: text})
		s.marks = append(s.marks, mark{pos: p, text: text, comment: true})
	case tokNewline:
		s.breakLines(open)
		ends := len(open) == 0 || open[len(open)-1].Value == "{"
		if ends && (len(s.tokens) == 0 || s.tokens[len(s.tokens)-1].Type != tokNewline) {
			s.tokens = append(s.tokens, t)
		}
	case tokEOF:
		s.tokens = append(s.tokens, t)
	default:
		s.marks = append(s.marks, mark{pos: p, text: t.Value})
		s.tokens = append(s.tokens, t)
	}
}

// breakLines notes a newline or comment inside the open brackets.
func (s *source) breakLines(open []lexer.Token) {
	for i, o := range open {
		b := s.broken[toPos(o.Pos)]
		b.any, b.direct = true, b.direct || i == len(open)-1
		s.broken[toPos(o.Pos)] = b
	}
}

var closerOf = map[string]string{"{": "}", "(": ")", "[": "]"}

// check validates one token and keeps the stack of open brackets.
func check(t lexer.Token, open *[]lexer.Token) error {
	switch t.Type {
	case tokEOF:
		if len(*open) > 0 {
			top := (*open)[len(*open)-1]
			return errorAt(top.Pos, "this %q is never closed (missing %q)", top.Value, closerOf[top.Value])
		}
	case tokPunct:
		return bracket(t, open)
	case tokInvalid:
		return invalidChar(t)
	case tokString:
		return checkString(t)
	case tokNumber:
		return checkNumber(t)
	}
	return nil
}

func bracket(t lexer.Token, open *[]lexer.Token) error {
	switch t.Value {
	case "{", "(", "[":
		if len(*open) >= maxDepth {
			return errorAt(t.Pos, "nesting too deep (more than %d levels of brackets)", maxDepth)
		}
		*open = append(*open, t)
	case "}", ")", "]":
		if len(*open) == 0 {
			return errorAt(t.Pos, "unexpected %q: no %q is open", t.Value, openerOf(t.Value))
		}
		top := (*open)[len(*open)-1]
		if closerOf[top.Value] != t.Value {
			return errorAt(t.Pos, "unexpected %q: the %q opened at line %d is not closed", t.Value, top.Value, top.Pos.Line)
		}
		*open = (*open)[:len(*open)-1]
	}
	return nil
}

func openerOf(closer string) string {
	for o, c := range closerOf {
		if c == closer {
			return o
		}
	}
	return ""
}

func invalidChar(t lexer.Token) error {
	r, size := utf8.DecodeRuneInString(t.Value)
	switch {
	case r == utf8.RuneError && size <= 1:
		return errorAt(t.Pos, "invalid byte 0x%02x (source must be UTF-8 text)", t.Value[0])
	case r < 0x20 || r == 0x7f:
		return errorAt(t.Pos, "invalid control character %U", r)
	}
	return errorAt(t.Pos, "unexpected character %q", r)
}

func checkString(t lexer.Token) error {
	s := t.Value
	if len(s) < 2 || !strings.HasSuffix(s, `"`) || strings.HasSuffix(s, `\"`) && !closedAfterEscapes(s) {
		return errorAt(t.Pos, "unterminated string (strings end at a '\"' on the same line)")
	}
	if !utf8.ValidString(s) {
		return errorAt(t.Pos, "string is not valid UTF-8")
	}
	if _, err := strconv.Unquote(s); err != nil {
		return errorAt(t.Pos, "invalid escape sequence in string (use \\\", \\\\, \\n, \\t or \\uXXXX)")
	}
	return nil
}

// closedAfterEscapes reports whether a string token ending in `\"` is
// closed: the backslashes before its last quote are an even number (`"a\\"`
// is closed, `"a\"` is not).
func closedAfterEscapes(s string) bool {
	n := 0
	for i := len(s) - 2; i > 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 0
}

var numberRe = regexp.MustCompile(`^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$`)

func checkNumber(t lexer.Token) error {
	text := t.Value
	if !numberRe.MatchString(text) {
		return errorAt(t.Pos, "malformed number %q", truncate(text))
	}
	if _, err := strconv.ParseFloat(text, 64); err != nil {
		return errorAt(t.Pos, "number %s is out of range", truncate(text))
	}
	if !strings.ContainsAny(text, ".eE") {
		if _, err := strconv.ParseInt(text, 10, 64); err != nil {
			return errorAt(t.Pos, "integer %s is out of range", truncate(text))
		}
	}
	return nil
}

func errorAt(p lexer.Position, format string, args ...any) *Error {
	return &Error{Pos: toPos(p), Msg: fmt.Sprintf(format, args...)}
}

func toPos(p lexer.Position) Pos { return Pos{File: p.Filename, Line: p.Line, Col: p.Column} }

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

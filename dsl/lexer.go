package dsl

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// rawLexer splits a .sink file into tokens with participle's regular
// expression lexer. It keeps comments and every newline (the formatter
// needs them) and accepts anything: bad input comes out as tokens
// (Invalid, an unterminated String, a malformed Number) that checkedLexer
// turns into positioned errors.
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

// definition is the participle lexer of the grammar: rawLexer's tokens,
// checked, with comments dropped and newlines kept only where they end
// statements (see checkedLexer).
type definition struct{}

func (definition) Symbols() map[string]lexer.TokenType { return rawLexer.Symbols() }

func (definition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	raw, err := rawLexer.Lex(filename, r)
	if err != nil {
		return nil, err
	}
	return &checkedLexer{raw: raw}, nil
}

// checkedLexer reads rawLexer's tokens and returns the first bad one as a
// *lexer.Error. It tracks open brackets, to report mismatched and unclosed
// ones at their opening bracket and to tell where a newline ends a
// statement: at the top level and in {...}, not in (...) or [...], where a
// value may span lines. Runs of newlines become one. In raw mode (the
// formatter) comments and every newline are kept.
type checkedLexer struct {
	raw   lexer.Lexer
	keep  bool          // raw mode
	open  []lexer.Token // open brackets, innermost last
	lastN bool          // the last token returned was a newline
}

func (l *checkedLexer) Next() (lexer.Token, error) {
	for {
		t, err := l.raw.Next()
		if err != nil {
			return t, err
		}
		if err := l.check(t); err != nil {
			return lexer.Token{}, err
		}
		if !l.keep {
			switch {
			case t.Type == tokComment:
				continue
			case t.Type == tokNewline && (l.lastN || !l.newlineEnds()):
				continue
			}
		}
		l.lastN = t.Type == tokNewline
		return t, nil
	}
}

// newlineEnds reports whether a newline here can end a statement.
func (l *checkedLexer) newlineEnds() bool {
	return len(l.open) == 0 || l.open[len(l.open)-1].Value == "{"
}

var closerOf = map[string]string{"{": "}", "(": ")", "[": "]"}

// check validates one token and keeps the bracket stack.
func (l *checkedLexer) check(t lexer.Token) error {
	switch t.Type {
	case tokEOF:
		if len(l.open) > 0 {
			top := l.open[len(l.open)-1]
			return errorAt(top.Pos, "this %q is never closed (missing %q)", top.Value, closerOf[top.Value])
		}
	case tokPunct:
		return l.bracket(t)
	case tokInvalid:
		return invalidChar(t)
	case tokString:
		return checkString(t)
	case tokNumber:
		return checkNumber(t)
	}
	return nil
}

func (l *checkedLexer) bracket(t lexer.Token) error {
	switch t.Value {
	case "{", "(", "[":
		if len(l.open) >= maxDepth {
			return errorAt(t.Pos, "nesting too deep (more than %d levels of brackets)", maxDepth)
		}
		l.open = append(l.open, t)
	case "}", ")", "]":
		if len(l.open) == 0 {
			return errorAt(t.Pos, "unexpected %q: no %q is open", t.Value, openerOf(t.Value))
		}
		top := l.open[len(l.open)-1]
		if closerOf[top.Value] != t.Value {
			return errorAt(t.Pos, "unexpected %q: the %q opened at line %d is not closed", t.Value, top.Value, top.Pos.Line)
		}
		l.open = l.open[:len(l.open)-1]
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

// errorAt is participle's lexer error, which Parse turns into an *Error.
func errorAt(p lexer.Position, format string, args ...any) *lexer.Error {
	return &lexer.Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// scan returns every token of src, checked, up to EOF. In raw mode it keeps
// comments and every newline.
func scan(filename string, src []byte, raw bool) ([]lexer.Token, error) {
	inner, err := rawLexer.LexString(filename, string(src))
	if err != nil {
		return nil, err
	}
	return lexer.ConsumeAll(&checkedLexer{raw: inner, keep: raw})
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

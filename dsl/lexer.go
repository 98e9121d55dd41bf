package dsl

import (
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types. Comments and blank space are dropped; newlines are kept
// (they end settings) except inside (...) and [...], where values may span
// lines. Runs of newlines collapse into one token.
const (
	tokEOF     = lexer.EOF
	tokIdent   = lexer.TokenType(-2)
	tokNumber  = lexer.TokenType(-3)
	tokString  = lexer.TokenType(-4)
	tokPunct   = lexer.TokenType(-5)
	tokNewline = lexer.TokenType(-6)
	tokComment = lexer.TokenType(-7) // only in raw mode (the formatter)
)

var symbols = map[string]lexer.TokenType{
	"EOF": tokEOF, "Ident": tokIdent, "Number": tokNumber, "String": tokString,
	"Punct": tokPunct, "NL": tokNewline,
}

// maxDepth bounds the nesting of (), [] and {}.
const maxDepth = 32

type definition struct{}

func (definition) Symbols() map[string]lexer.TokenType { return symbols }

// Lex is unused (Parse lexes on its own, to report errors in its own words)
// but required by the participle interface.
func (definition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	return nil, fmt.Errorf("not supported")
}

type sliceLexer struct {
	toks []lexer.Token
	i    int
}

func (s *sliceLexer) Next() (lexer.Token, error) {
	if s.i >= len(s.toks) {
		return s.toks[len(s.toks)-1], nil // EOF
	}
	t := s.toks[s.i]
	s.i++
	return t, nil
}

type scanner struct {
	file      string
	src       []byte
	off       int
	line, col int
	toks      []lexer.Token
	errs      ErrorList
	stack     []lexer.Token // open brackets
	raw       bool          // keep comments and every newline (for the formatter)
}

func (s *scanner) pos() lexer.Position {
	return lexer.Position{Filename: s.file, Offset: s.off, Line: s.line, Column: s.col}
}

func (s *scanner) errorf(p lexer.Position, format string, args ...any) {
	s.errs = append(s.errs, &Error{Pos: toPos(p), Msg: fmt.Sprintf(format, args...)})
}

func toPos(p lexer.Position) Pos { return Pos{File: p.Filename, Line: p.Line, Col: p.Column} }

// advance moves over n bytes that contain no newline.
func (s *scanner) advance(n int) {
	s.col += utf8.RuneCount(s.src[s.off : s.off+n])
	s.off += n
}

func (s *scanner) emit(typ lexer.TokenType, p lexer.Position, val string) {
	s.toks = append(s.toks, lexer.Token{Type: typ, Value: val, Pos: p})
}

func isLetter(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// lex splits src into tokens. It stops at the first error.
func lex(file string, src []byte) ([]lexer.Token, ErrorList) {
	return scan(file, src, false)
}

// scan is lex; in raw mode it also emits comments and every newline, even
// inside brackets and in runs.
func scan(file string, src []byte, raw bool) ([]lexer.Token, ErrorList) {
	s := &scanner{file: file, src: src, line: 1, col: 1, raw: raw}
	for s.off < len(src) && len(s.errs) == 0 {
		c := src[s.off]
		p := s.pos()
		switch {
		case c == '\n':
			if s.raw {
				s.emit(tokNewline, p, "\n")
			} else if len(s.stack) == 0 || s.stack[len(s.stack)-1].Value == "{" {
				if n := len(s.toks); n == 0 || s.toks[n-1].Type != tokNewline {
					s.emit(tokNewline, p, "\n")
				}
			}
			s.off++
			s.line++
			s.col = 1
		case c == ' ' || c == '\t' || c == '\r':
			s.advance(1)
		case c == '#' || c == '/' && s.off+1 < len(src) && src[s.off+1] == '/':
			n := 0
			for s.off+n < len(src) && src[s.off+n] != '\n' {
				n++
			}
			if s.raw {
				s.emit(tokComment, p, string(src[s.off:s.off+n]))
			}
			s.advance(n)
		case isLetter(c):
			n := 1
			for s.off+n < len(src) && (isLetter(src[s.off+n]) || isDigit(src[s.off+n])) {
				n++
			}
			s.emit(tokIdent, p, string(src[s.off:s.off+n]))
			s.advance(n)
		case isDigit(c) || (c == '-' || c == '+' || c == '.') && s.off+1 < len(src) && (isDigit(src[s.off+1]) || src[s.off+1] == '.'):
			s.number(p)
		case c == '"':
			s.str(p)
		case c == '{' || c == '(' || c == '[':
			if len(s.stack) >= maxDepth {
				s.errorf(p, "nesting too deep (more than %d levels of brackets)", maxDepth)
				break
			}
			s.emit(tokPunct, p, string(c))
			s.stack = append(s.stack, s.toks[len(s.toks)-1])
			s.advance(1)
		case c == '}' || c == ')' || c == ']':
			open := map[byte]string{'}': "{", ')': "(", ']': "["}[c]
			if len(s.stack) == 0 {
				s.errorf(p, "unexpected %q: no %q is open", string(c), open)
				break
			}
			top := s.stack[len(s.stack)-1]
			if top.Value != open {
				s.errorf(p, "unexpected %q: the %q opened at line %d is not closed", string(c), top.Value, top.Pos.Line)
				break
			}
			s.stack = s.stack[:len(s.stack)-1]
			s.emit(tokPunct, p, string(c))
			s.advance(1)
		case c == ':' || c == ';' || c == ',' || c == '.':
			s.emit(tokPunct, p, string(c))
			s.advance(1)
		default:
			r, size := utf8.DecodeRune(src[s.off:])
			switch {
			case r == utf8.RuneError && size <= 1:
				s.errorf(p, "invalid byte 0x%02x (source must be UTF-8 text)", c)
			case r < 0x20 || r == 0x7f:
				s.errorf(p, "invalid control character %U", r)
			default:
				s.errorf(p, "unexpected character %q", r)
			}
		}
	}
	if len(s.errs) == 0 && len(s.stack) > 0 {
		top := s.stack[len(s.stack)-1]
		close := map[string]string{"{": "}", "(": ")", "[": "]"}[top.Value]
		s.errorf(top.Pos, "this %q is never closed (missing %q)", top.Value, close)
	}
	if len(s.errs) > 0 {
		return nil, s.errs
	}
	s.emit(tokEOF, s.pos(), "")
	return s.toks, nil
}

func (s *scanner) number(p lexer.Position) {
	src, i := s.src, s.off
	if src[i] == '-' || src[i] == '+' {
		i++
	}
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	isInt := true
	if i < len(src) && src[i] == '.' {
		isInt = false
		i++
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '-' || src[j] == '+') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			isInt = false
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			i = j
		}
	}
	// A number glued to letters ("12ab", "1e") is a typo, not two tokens.
	if i < len(src) && (isLetter(src[i]) || isDigit(src[i]) || src[i] == '.') {
		for i < len(src) && (isLetter(src[i]) || isDigit(src[i]) || src[i] == '.') {
			i++
		}
		s.errorf(p, "malformed number %q", truncate(string(src[s.off:i])))
		return
	}
	text := string(src[s.off:i])
	if _, err := strconv.ParseFloat(text, 64); err != nil {
		s.errorf(p, "number %s is out of range", truncate(text))
		return
	}
	if isInt {
		if _, err := strconv.ParseInt(text, 10, 64); err != nil {
			s.errorf(p, "integer %s is out of range", truncate(text))
			return
		}
	}
	s.emit(tokNumber, p, text)
	s.advance(i - s.off)
}

func (s *scanner) str(p lexer.Position) {
	src, i := s.src, s.off+1
	for {
		if i >= len(src) || src[i] == '\n' {
			s.errorf(p, "unterminated string (strings end at a '\"' on the same line)")
			return
		}
		if src[i] == '"' {
			i++
			break
		}
		if src[i] == '\\' && i+1 < len(src) && src[i+1] != '\n' {
			i++
		}
		i++
	}
	text := string(src[s.off:i])
	if !utf8.ValidString(text) {
		s.errorf(p, "string is not valid UTF-8")
		return
	}
	if _, err := strconv.Unquote(text); err != nil {
		s.errorf(p, "invalid escape sequence in string (use \\\", \\\\, \\n, \\t or \\uXXXX)")
		return
	}
	s.emit(tokString, p, text)
	s.advance(i - s.off)
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

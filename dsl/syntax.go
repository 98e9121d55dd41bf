package dsl

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// syntaxError turns participle's error into an *Error. A lexer error (a bad
// token) already reads as a user's message. For an unexpected token, the
// message says what the language expects at that place of the file, which
// is worked out from the tokens before it (see placeOf).
func syntaxError(filename string, src []byte, err error) *Error {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return &Error{Pos: Pos{File: filename, Line: 1, Col: 1}, Msg: err.Error()}
	}
	pos := toPos(perr.Position())
	if pos.File == "" {
		pos.File = filename
	}
	msg := perr.Message()
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		// The file lexed once already, so it lexes again without error.
		toks, lexErr := scan(filename, src, false)
		if idx := indexOf(toks, ute.Unexpected); lexErr == nil && idx >= 0 {
			idx = culprit(toks, idx)
			pos, msg = toPos(toks[idx].Pos), unexpected(toks, idx)+keywordHint(toks, idx)
		} else {
			msg = "unexpected " + describeToken(ute.Unexpected)
		}
	}
	return &Error{Pos: pos, Msg: msg}
}

func toPos(p lexer.Position) Pos { return Pos{File: p.Filename, Line: p.Line, Col: p.Column} }

func indexOf(toks []lexer.Token, t lexer.Token) int {
	for i, u := range toks {
		if u.Pos.Offset == t.Pos.Offset && u.Type == t.Type {
			return i
		}
	}
	return -1
}

// scope is what a level of the file holds: the file itself, or the inside
// of a pair of brackets.
type scope int

const (
	inFile       scope = iota
	inExperiment       // experiment NAME { here }
	inVariants         // variants { here }
	inVariant          // variants { NAME { here } }
	inZip              // vary zip { here }
	inExpect           // expect { here }
	inSelect           // expect { sink_1[ here ] }
	inBlock            // model { here }
	inList             // [ here ]
	inArgs             // kind( here )
)

// place is where a token is: the innermost scope and the tokens of the
// statement (or list element, or argument) before it in that scope, a
// bracketed group counting as its opening bracket.
type place struct {
	scope scope
	stmt  []lexer.Token
}

// placeOf walks the tokens before toks[idx].
func placeOf(toks []lexer.Token, idx int) place {
	stack := []place{{scope: inFile}}
	for i, u := range toks[:idx] {
		top := &stack[len(stack)-1]
		switch {
		case isPunct(u, "{"):
			inner := inBlock
			switch {
			case top.scope == inFile:
				inner = inExperiment
			case top.scope == inVariants:
				inner = inVariant
			case top.scope == inExperiment || top.scope == inVariant:
				if startsWith(top.stmt, "variants") && len(top.stmt) == 1 {
					inner = inVariants
				} else if startsWith(top.stmt, "expect") && len(top.stmt) == 1 {
					inner = inExpect
				} else if startsWith(top.stmt, "vary", "zip") && len(top.stmt) == 2 {
					inner = inZip
				}
			}
			top.stmt = append(top.stmt, u)
			stack = append(stack, place{scope: inner})
		case isPunct(u, "("), isPunct(u, "["):
			top.stmt = append(top.stmt, u)
			inner := inList
			switch {
			case u.Value == "(":
				inner = inArgs
			case top.scope == inExpect:
				inner = inSelect
			}
			stack = append(stack, place{scope: inner})
		case isPunct(u, "}"), isPunct(u, ")"), isPunct(u, "]"):
			stack = stack[:len(stack)-1]
			if u.Value == "}" { // a block ends its statement
				stack[len(stack)-1].stmt = nil
			}
		case isPunct(u, ";"), isPunct(u, ","):
			top.stmt = nil
		case u.Type == tokNewline:
			// A newline between a header and its "{" does not end it.
			if i+1 < len(toks) && !isPunct(toks[i+1], "{") {
				top.stmt = nil
			}
		default:
			top.stmt = append(top.stmt, u)
		}
	}
	return stack[len(stack)-1]
}

func isPunct(t lexer.Token, v string) bool { return t.Type == tokPunct && t.Value == v }

// startsWith reports whether the statement begins with the given words.
func startsWith(stmt []lexer.Token, words ...string) bool {
	if len(stmt) < len(words) {
		return false
	}
	for i, w := range words {
		if stmt[i].Type != tokIdent || stmt[i].Value != w {
			return false
		}
	}
	return true
}

// culprit moves from the token participle reports to the one at fault.
// When a statement in braces fails after its first word, participle
// reports that word, where the statement began (`z` in `data { y 2 } z }`);
// any word may begin a statement there, so the fault is the token after it.
func culprit(toks []lexer.Token, idx int) int {
	t := toks[idx]
	if t.Type != tokIdent || idx+1 >= len(toks) {
		return idx
	}
	p := placeOf(toks, idx)
	if len(p.stmt) == 0 && p.scope != inFile && p.scope != inList && p.scope != inArgs && p.scope != inSelect {
		return idx + 1
	}
	return idx
}

// unexpected is the message for the unexpected token toks[idx]: what the
// language expects there.
func unexpected(toks []lexer.Token, idx int) string {
	t := toks[idx]
	what := "unexpected " + describeToken(t)
	p := placeOf(toks, idx)
	s := p.stmt
	last := func() lexer.Token { return s[len(s)-1] }
	const endSetting = `: end the previous setting with a newline or ";" first`
	switch p.scope {
	case inFile:
		switch {
		case startsWith(s, "import") && len(s) == 1:
			return what + `, expected the imported file in double quotes: import "base.sink"`
		case startsWith(s, "import"):
			return what + `: end the import with a newline or ";" first`
		case len(s) == 0 && t.Type == tokIdent && t.Value == "import":
			return what + `: imports come first in a file, before any experiment`
		case startsWith(s, "experiment") && (len(s) == 1 || len(s) == 3):
			return what + ", expected a name"
		case startsWith(s, "experiment"):
			return what + `, expected "{"`
		}
		return what + `, expected "experiment NAME { ... }"`
	case inList:
		if len(s) == 0 {
			return what + ", expected a value"
		}
		return what + `, expected "," or "]"`
	case inArgs:
		switch {
		case len(s) == 0:
			return what + `, expected an argument (name: value) or ")"`
		case len(s) == 1 && s[0].Type == tokIdent:
			return what + `, expected ":" after the argument name (write name: value)`
		case len(s) == 2 && isPunct(last(), ":"):
			return what + ", expected a value"
		}
		return what + `, expected "," or ")"`
	case inBlock:
		switch len(s) {
		case 0:
			return what + ", expected a setting name"
		case 1:
			return what + ", expected a value"
		}
		return what + endSetting
	case inVariants:
		if len(s) == 0 {
			return what + ", expected a variant name"
		}
		return what + `, expected "{"`
	case inZip:
		return what + axisExpects(s, endSetting)
	case inExpect:
		return what + claimExpects(s)
	case inSelect:
		switch {
		case len(s) == 0:
			return what + ", expected a setting path (write sink_1[path: value])"
		case isPunct(last(), ":"):
			return what + ", expected a value"
		case isPunct(last(), "."):
			return what + ", expected a name"
		case last().Type == tokIdent && !hasPunct(s, ":"):
			return what + `, expected ":" after the setting path (write path: value)`
		}
		return what + `, expected "," or "]"`
	}
	// In an experiment or a variant.
	switch {
	case startsWith(s, "vary") && len(s) == 1:
		return what + `, expected a setting path or "zip"`
	case startsWith(s, "vary"):
		return what + axisExpects(s[1:], endSetting)
	case len(s) == 0 && p.scope == inExperiment:
		return what + ", expected a block, vary or variants"
	case len(s) == 0:
		return what + ", expected a block"
	case len(s) == 1:
		return what + `, expected "{" or a value`
	}
	return what + endSetting
}

// claimExpects is what a claim `sum OP sum` expects after its tokens s.
func claimExpects(s []lexer.Token) string {
	if len(s) == 0 {
		return ", expected a claim, e.g. sink_1[attention: softmax] > 50"
	}
	last := s[len(s)-1]
	compared := false
	for _, u := range s {
		compared = compared || isComparison(u)
	}
	switch {
	case isComparison(last) || isPunct(last, "+") || isPunct(last, "-"):
		return ", expected a number or a metric"
	case !compared:
		return `, expected "<", ">", "<=" or ">="`
	}
	return `: end the claim with a newline or ";" first`
}

func isComparison(t lexer.Token) bool {
	return t.Type == tokPunct && (t.Value == "<" || t.Value == ">" || t.Value == "<=" || t.Value == ">=")
}

func hasPunct(s []lexer.Token, v string) bool {
	for _, u := range s {
		if isPunct(u, v) {
			return true
		}
	}
	return false
}

// axisExpects is what an axis `path [values]` expects after its tokens s.
func axisExpects(s []lexer.Token, endSetting string) string {
	switch {
	case len(s) == 0:
		return ", expected a setting path"
	case isPunct(s[len(s)-1], "["):
		return endSetting
	case isPunct(s[len(s)-1], "."):
		return ", expected a name"
	}
	return ", expected a list of values [v1, v2, ...]"
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

// keywordHint suggests a keyword when a syntax error follows a misspelt one:
// the unexpected token itself (`improt`, `extend`, `vary zpi`), the first
// word of its statement in an experiment body (`vray model.x [...]`), or the
// name of the block it is in (`varaints { ... }`).
func keywordHint(toks []lexer.Token, idx int) string {
	t := toks[idx]
	var opens []int // indices of the open "{" around t
	for i, u := range toks[:idx] {
		if isPunct(u, "{") {
			opens = append(opens, i)
		} else if isPunct(u, "}") && len(opens) > 0 {
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
		case len(opens) == 0 && at(idx-2).Value == "extends":
			if h := hint(t, "on"); h != "" {
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
	if at(idx-2).Value == "vary" && at(idx-1).Type == tokIdent && isPunct(t, "{") {
		if h := hint(at(idx-1), "zip"); h != "" {
			return h
		}
	}
	if len(opens) == 1 { // in an experiment body: the statement's first word
		s := idx
		for s > 0 && !(toks[s-1].Type == tokNewline || isPunct(toks[s-1], ";") || isPunct(toks[s-1], "{") || isPunct(toks[s-1], "}")) {
			s--
		}
		if w := toks[s]; w.Type == tokIdent && s != idx {
			if h := hint(w, "vary", "variants"); h != "" {
				return h
			}
		}
	}
	if len(opens) == 2 { // in a block: its name
		o := opens[len(opens)-1]
		n := at(o - 1)
		if n.Type == tokNewline {
			n = at(o - 2)
		}
		if n.Type == tokIdent {
			return hint(n, "variants", "expect")
		}
	}
	return ""
}

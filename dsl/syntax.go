package dsl

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"

	"github.com/alecthomas/participle/v2/lexer"
)

// syntaxCheck returns the first syntax error of a parse tree, in source
// order: the first part of a grammar rule that is missing and has a `want`
// tag, or the first error tail (Junk). The message names the
// token found there and what the rule wants, e.g.
//
//	unexpected "}", expected a value
//
// followed by a suggestion when a keyword near the error looks misspelt.
func syntaxCheck(src *source, g *gFile) *Error {
	c := &checker{src: src}
	return c.node(reflect.ValueOf(g))
}

type checker struct {
	src            *source
	path           []any // the nodes around the one being checked, outermost first
	seenExperiment bool
}

var junkTypes = map[reflect.Type]bool{reflect.TypeOf(&gJunk{}): true, reflect.TypeOf(&gElemJunk{}): true}

// node checks a node (a pointer to a grammar struct) and its children, in
// source order.
func (c *checker) node(v reflect.Value) *Error {
	c.path = append(c.path, v.Interface())
	defer func() { c.path = c.path[:len(c.path)-1] }()
	if err := c.rules(v.Interface()); err != nil {
		return err
	}
	s := v.Elem()
	for i, want := range wantTags[s.Type()] {
		f := s.Field(i)
		switch {
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Pointer:
			for j := 0; j < f.Len(); j++ {
				// A list may end with an empty element: `[]`, `[1, 2,]`.
				if j == f.Len()-1 && empty(f.Index(j)) {
					continue
				}
				if err := c.node(f.Index(j)); err != nil {
					return err
				}
			}
		case f.Kind() != reflect.Pointer || f.Type().Elem().Kind() != reflect.Struct:
		case junkTypes[f.Type()]:
			// (A tail without a want tag is where a wanted part is
			// missing, which comes first.)
			if !f.IsNil() {
				return c.errorAt(position(f), want)
			}
		case f.IsNil():
			if want != "" {
				return c.errorAt(next(s, i), want)
			}
		default:
			if err := c.node(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// wantTags holds the want tags of the fields of every grammar struct.
var wantTags = collectWants(reflect.TypeOf(gFile{}), map[reflect.Type][]string{})

func collectWants(t reflect.Type, tags map[reflect.Type][]string) map[reflect.Type][]string {
	if _, done := tags[t]; done {
		return tags
	}
	w := make([]string, t.NumField())
	tags[t] = w
	for i := range w {
		f := t.Field(i)
		w[i] = f.Tag.Get("want")
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath() {
			collectWants(ft, tags)
		}
	}
	return tags
}

// rules are the checks that are not a missing part or an error tail.
func (c *checker) rules(n any) *Error {
	switch n := n.(type) {
	case *gExperiment:
		c.seenExperiment = true
	case *gTop:
		if n.Import != nil && c.seenExperiment {
			return c.errorAt(n.Pos, ": imports come first in a file, before any experiment")
		}
	case *gItem:
		if _, ok := c.path[len(c.path)-3].(*gVariant); ok && n.Junk != nil {
			return c.errorAt(n.Junk.Pos, ", expected a block")
		}
	}
	return nil
}

// empty reports whether a node read no tokens.
func empty(v reflect.Value) bool {
	end := v.Elem().FieldByName("EndPos")
	return end.IsValid() && end.Interface().(lexer.Position).Offset == position(v).Offset
}

func position(v reflect.Value) lexer.Position {
	return v.Elem().FieldByName("Pos").Interface().(lexer.Position)
}

// next is where the missing field i of s would have been: at the next
// field that is there, or else at the token after s.
func next(s reflect.Value, i int) lexer.Position {
	for i++; i < s.NumField(); i++ {
		if f := s.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Struct {
			return position(f)
		}
	}
	return s.FieldByName("EndPos").Interface().(lexer.Position)
}

func (c *checker) errorAt(p lexer.Position, want string) *Error {
	toks := c.src.tokens
	i := sort.Search(len(toks), func(i int) bool { return toks[i].Pos.Offset >= p.Offset })
	return &Error{Pos: toPos(toks[i].Pos), Msg: "unexpected " + describeToken(toks[i]) + want + c.hint(i)}
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

// hint suggests a keyword when a syntax error follows a misspelt one: the
// unexpected token itself (`improt`, `extend`), the word before it (`vary
// zpi {`), the first word of its statement in an experiment body (`vray
// model.x [...]`), or the name of the block it is in (`varaints { ... }`).
func (c *checker) hint(idx int) string {
	t := c.src.tokens[idx]
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
	depth, first, block := c.scope()
	if h := c.wordHint(idx, depth, hint); h != "" || depth == 0 {
		return h
	}
	if w := c.tokenAt(first); depth == 1 && w.Type == tokIdent && w.Pos.Offset != t.Pos.Offset {
		if h := hint(w, "vary", "variants"); h != "" {
			return h
		}
	}
	if depth == 2 && block != nil {
		return hint(c.tokenAt(block), "variants", "expect")
	}
	return ""
}

// wordHint is the hint from the token at idx and the words before it:
// keywords of the file's top level, and zip after vary.
func (c *checker) wordHint(idx, depth int, hint func(lexer.Token, ...string) string) string {
	toks := c.src.tokens
	t := toks[idx]
	at := func(i int) lexer.Token {
		if i < 0 || i >= len(toks) {
			return lexer.Token{}
		}
		return toks[i]
	}
	if t.Type == tokIdent {
		switch {
		case depth == 0 && at(idx-2).Value == "experiment":
			return hint(t, "extends")
		case depth == 0 && at(idx-2).Value == "extends":
			return hint(t, "on")
		case depth == 0:
			return hint(t, "experiment", "import")
		case at(idx-1).Value == "vary":
			if h := hint(t, "zip"); h != "" {
				return h
			}
		}
	}
	if at(idx-2).Value == "vary" && at(idx-1).Type == tokIdent && t.Value == "{" {
		return hint(at(idx-1), "zip")
	}
	return ""
}

// scope describes where the node being checked is: in how many braces,
// where the statement it is part of begins if it is in an experiment's
// body, and where the name of its block is if it is in a block.
func (c *checker) scope() (depth int, first, block *lexer.Position) {
	for i, n := range c.path {
		switch n := n.(type) {
		case *gBody, *gVariantList, *gZip, *gClaims:
			depth++
			block = nil
		case *gBlock:
			depth++
			block = &c.path[i-1].(*gEntry).Pos
		case *gItem:
			if depth == 1 {
				first = &n.Pos
			}
		}
	}
	return depth, first, block
}

func (c *checker) tokenAt(p *lexer.Position) lexer.Token {
	if p == nil {
		return lexer.Token{}
	}
	toks := c.src.tokens
	return toks[sort.Search(len(toks), func(i int) bool { return toks[i].Pos.Offset >= p.Offset })]
}

package dsl

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Parse parses one .sink file. The error is a *Error or an ErrorList, each
// with a position. Parse never panics.
func Parse(filename string, src []byte) (*File, error) {
	f, _, err := parse(filename, src)
	return f, err
}

// parse is Parse, also returning the lexed source (for Format).
func parse(filename string, src []byte) (f *File, s *source, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, s, err = nil, nil, &Error{Pos: Pos{File: filename, Line: 1, Col: 1}, Msg: fmt.Sprintf("internal error while parsing: %v", r)}
		}
	}()
	if s, err = lex(filename, src); err != nil {
		return nil, nil, err
	}
	peek, err := lexer.Upgrade(&tokenList{tokens: s.tokens})
	if err != nil {
		return nil, nil, err
	}
	g, err := parser.ParseFromLexer(peek)
	if err != nil { // the grammar reads any tokens; this is a bug
		return nil, nil, internalError(filename, err)
	}
	if err := syntaxCheck(s, g); err != nil {
		return nil, nil, err
	}
	f, errs := convert(filename, g)
	if len(errs) > 0 {
		return nil, nil, errs.err()
	}
	f.Comments = s.comments
	return f, s, nil
}

func internalError(filename string, err error) *Error {
	e := &Error{Pos: Pos{File: filename, Line: 1, Col: 1}, Msg: "internal error while parsing: " + err.Error()}
	var perr participle.Error
	if errors.As(err, &perr) && perr.Position().Line > 0 {
		e.Pos = toPos(perr.Position())
		e.Msg = "internal error while parsing: " + perr.Message()
	}
	return e
}

// tokenList hands participle the tokens lex made.
type tokenList struct {
	tokens []lexer.Token
	next   int
}

func (l *tokenList) Next() (lexer.Token, error) {
	t := l.tokens[l.next]
	if l.next < len(l.tokens)-1 {
		l.next++
	}
	return t, nil
}

// convert builds the syntax tree of a parse tree that syntaxCheck passed,
// and reports the errors of statements that parse but are misplaced.
func convert(filename string, g *gFile) (*File, ErrorList) {
	f := &File{Name: filename}
	var errs ErrorList
	for _, top := range g.Tops {
		if gi := top.Import; gi != nil {
			path, _ := strconv.Unquote(gi.Path.Value) // validated by the lexer
			f.Imports = append(f.Imports, &Import{Pos: toPos(gi.Pos), Path: path, PathPos: toPos(gi.Path.Pos), PathText: gi.Path.Value})
			continue
		}
		ge := top.Experiment
		e := &Experiment{Pos: toPos(ge.Pos), Name: ge.Name.Name, NamePos: toPos(ge.Name.Pos),
			Lbrace: toPos(ge.Body.Lbrace.Pos), Rbrace: toPos(ge.Body.Rbrace.Pos)}
		if x := ge.Extends; x != nil {
			e.Extends, e.ExtendsPos = x.Name.Name, toPos(x.Name.Pos)
			if x.On != nil {
				e.On, e.OnPos = x.On.Name.Name, toPos(x.On.Name.Pos)
			}
		}
		for _, it := range ge.Body.Items {
			switch {
			case it.Expect != nil:
				e.Expects = append(e.Expects, convertExpect(it.Expect, &errs))
			case it.Vary != nil:
				e.Varies = append(e.Varies, convertVary(it.Vary))
			case it.Variants != nil:
				e.Varies = append(e.Varies, convertVariants(it.Variants, &errs))
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

func convertExpect(g *gExpect, errs *ErrorList) *Expect {
	x := &Expect{Pos: toPos(g.Pos), Lbrace: toPos(g.Claims.Lbrace.Pos), Rbrace: toPos(g.Claims.Rbrace.Pos)}
	for _, gc := range g.Claims.List {
		c := &Claim{Pos: toPos(gc.Pos), Disagrees: gc.Disagrees, Op: gc.Op.Op, OpPos: toPos(gc.Op.Pos),
			Left: convertSum(gc.Left, errs), Right: convertSum(gc.Right, errs)}
		x.Claims = append(x.Claims, c)
	}
	return x
}

func convertSum(g *gSum, errs *ErrorList) *Sum {
	s := &Sum{Pos: toPos(g.Pos), Terms: []*Term{convertOperand(g.First, false)}}
	for _, m := range g.Rest {
		switch {
		case m.Term != nil:
			s.Terms = append(s.Terms, convertOperand(m.Term.Operand, m.Term.Sign == "-"))
		case (*m.Signed)[0] == '+' || (*m.Signed)[0] == '-':
			n := convertNumber(toPos(m.Pos), *m.Signed)
			neg := n.Text[0] == '-'
			n.Text = n.Text[1:]
			n.Pos.Col++
			n.Float, n.Int = math.Abs(n.Float), max(n.Int, -n.Int)
			s.Terms = append(s.Terms, &Term{Pos: n.Pos, Neg: neg, Number: n})
		default:
			*errs = append(*errs, &Error{Pos: toPos(m.Pos), Msg: fmt.Sprintf(
				"unexpected number %s: write + %s or - %s to add or subtract it", *m.Signed, *m.Signed, *m.Signed)})
		}
	}
	return s
}

func convertOperand(g *gOperand, neg bool) *Term {
	t := &Term{Pos: toPos(g.Pos), Neg: neg}
	if g.Number != nil {
		t.Number = convertNumber(toPos(g.Pos), *g.Number)
		return t
	}
	gm := g.Metric
	m := &MetricRef{Pos: toPos(gm.Pos), Name: gm.Name}
	if gm.Args != nil {
		m.Args, m.Lparen, m.Rparen = convertArgs(gm.Args), toPos(gm.Args.Pos), toPos(gm.Args.Rparen.Pos)
	}
	if gs := gm.Selector; gs != nil {
		m.Lbrack, m.Rbrack = toPos(gs.Pos), toPos(gs.Rbrack.Pos)
		for _, sel := range gs.Items {
			if sel.Path != nil { // not the empty element after a trailing comma
				m.Selector = append(m.Selector, &Select{Pos: toPos(sel.Pos), Path: sel.Path.String(), Value: convertValue(sel.Value.Value)})
			}
		}
	}
	t.Metric = m
	return t
}

func convertVary(gv *gVary) *Vary {
	if gv.What.Axis != nil {
		return &Vary{Pos: toPos(gv.Pos), Axes: []*Axis{convertAxis(gv.What.Axis)}}
	}
	z := gv.What.Zip
	v := &Vary{Pos: toPos(gv.Pos), Zip: true, Lbrace: toPos(z.Pos), Rbrace: toPos(z.Rbrace.Pos)}
	for _, it := range z.Items {
		v.Axes = append(v.Axes, convertAxis(it.Axis))
	}
	return v
}

func convertVariants(g *gVariants, errs *ErrorList) *Vary {
	v := &Vary{Pos: toPos(g.Pos), IsVariants: true, Variants: []*Variant{}, Lbrace: toPos(g.Body.Lbrace.Pos), Rbrace: toPos(g.Body.Rbrace.Pos)}
	for _, gv := range g.Body.List {
		v.Variants = append(v.Variants, convertVariant(gv, errs))
	}
	return v
}

func convertVariant(gv *gVariant, errs *ErrorList) *Variant {
	name := gv.Name.Name
	v := &Variant{Pos: toPos(gv.Pos), Name: name, Lbrace: toPos(gv.Body.Lbrace.Pos), Rbrace: toPos(gv.Body.Rbrace.Pos)}
	for _, it := range gv.Body.Items {
		switch {
		case it.Vary != nil:
			*errs = append(*errs, &Error{Pos: toPos(it.Vary.Pos), Msg: fmt.Sprintf(
				"vary inside variant %q: a variant is a set of settings, not a grid; put the vary in the experiment (it combines with the variants as a product)", name)})
		case it.Variants != nil:
			*errs = append(*errs, &Error{Pos: toPos(it.Variants.Pos), Msg: fmt.Sprintf(
				"variants inside variant %q: variants do not nest; list every variant in one variants block", name)})
		case it.Expect != nil:
			*errs = append(*errs, &Error{Pos: toPos(it.Expect.Pos), Msg: fmt.Sprintf(
				"expect inside variant %q: state expectations in the experiment, selecting the variant: sink_1[variant: %s] > 50", name, name)})
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
	b := &Block{Pos: toPos(ge.Pos), Name: ge.Name, Lbrace: toPos(ge.Block.Lbrace.Pos), Rbrace: toPos(ge.Block.Rbrace.Pos)}
	for _, s := range ge.Block.Settings {
		b.Settings = append(b.Settings, &Setting{Pos: toPos(s.Pos), Key: s.Key.Name, Value: convertValue(s.Value)})
	}
	return b
}

func convertAxis(a *gAxis) *Axis {
	return &Axis{Pos: toPos(a.Pos), Path: a.Path.String(), Values: convertList(a.Values)}
}

func (p *gPath) String() string {
	parts := []string{p.First}
	for _, d := range p.Rest {
		parts = append(parts, d.Name.Name)
	}
	return strings.Join(parts, ".")
}

func convertArgs(g *gArgs) []*Arg {
	var args []*Arg
	for _, a := range g.List {
		if a.Name != nil { // not the empty element after a trailing comma
			args = append(args, &Arg{Pos: toPos(a.Pos), Name: a.Name.Name, Value: convertValue(a.Value.Value)})
		}
	}
	return args
}

func convertList(g *gList) *List {
	l := &List{Pos: toPos(g.Pos), Rbrack: toPos(g.Rbrack.Pos)}
	for _, e := range g.Elems {
		if e.Value != nil { // not the empty element after a trailing comma
			l.Elems = append(l.Elems, convertValue(e.Value))
		}
	}
	return l
}

func convertValue(v *gValue) Expr {
	p := toPos(v.Pos)
	switch {
	case v.List != nil:
		return convertList(v.List)
	case v.Call != nil:
		if v.Call.Args == nil {
			return &Ident{Pos: p, Name: v.Call.Name}
		}
		return &Call{Pos: p, Name: v.Call.Name, Args: convertArgs(v.Call.Args),
			Lparen: toPos(v.Call.Args.Pos), Rparen: toPos(v.Call.Args.Rparen.Pos)}
	case v.Number != nil:
		return convertNumber(p, *v.Number)
	default:
		s, _ := strconv.Unquote(*v.String) // validated by the lexer
		return &String{Pos: p, Value: s, Text: *v.String}
	}
}

func convertNumber(p Pos, text string) *Number {
	n := &Number{Pos: p, Text: text}
	n.Float, _ = strconv.ParseFloat(n.Text, 64) // validated by the lexer
	if i, err := strconv.ParseInt(strings.TrimPrefix(n.Text, "+"), 10, 64); err == nil {
		n.IsInt, n.Int = true, i
	}
	return n
}

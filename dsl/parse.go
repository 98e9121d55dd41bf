package dsl

import (
	"fmt"
	"math"
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

// An import, a setting and a vary axis end at a newline, a ";" or the "}"
// of their block; a block (anything in braces) ends at its "}", so blocks
// may follow each other on a line.

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
	Extends *gName   `parser:"( \"extends\" @@"`
	On      *gName   `parser:"  ( \"on\" @@ )? )?"`
	Items   []*gItem `parser:"NL? \"{\" (NL|\";\")* ( @@ (NL|\";\")* )* \"}\""`
}

type gName struct {
	Pos  lexer.Position
	Name string `parser:"@Ident"`
}

type gItem struct {
	Expect   *gExpect   `parser:"@@"`
	Vary     *gVary     `parser:"| @@"`
	Variants *gVariants `parser:"| @@"`
	Entry    *gEntry    `parser:"| @@"`
}

type gExpect struct {
	Pos    lexer.Position
	Claims []*gClaim `parser:"\"expect\" NL? \"{\" (NL|\";\")* ( @@ (NL|\";\")* )* \"}\""`
}

type gClaim struct {
	Pos       lexer.Position
	Disagrees bool  `parser:"@\"disagrees\"?"`
	Left      *gSum `parser:"@@"`
	Op        *gOp  `parser:"@@"`
	Right     *gSum `parser:"@@ (?= NL | \";\" | \"}\")"`
}

type gOp struct {
	Pos lexer.Position
	Op  string `parser:"@( \"<\" | \">\" | \"<=\" | \">=\" )"`
}

type gSum struct {
	Pos   lexer.Position
	First *gOperand `parser:"@@"`
	Rest  []*gMore  `parser:"@@*"`
}

// gMore is `+ operand`, `- operand`, or a number glued to its sign (`+50`),
// which the lexer reads as one number.
type gMore struct {
	Pos     lexer.Position
	Sign    string    `parser:"( @( \"+\" | \"-\" )"`
	Operand *gOperand `parser:"  @@"`
	Signed  *string   `parser:"| @Number )"`
}

type gOperand struct {
	Pos    lexer.Position
	Number *string  `parser:"@Number"`
	Metric *gMetric `parser:"| @@"`
}

type gMetric struct {
	Pos      lexer.Position
	Name     string     `parser:"@Ident"`
	Paren    *gParens   `parser:"@@?"`
	Selector *gSelector `parser:"@@?"`
}

type gSelector struct {
	Items []*gSelect `parser:"\"[\" ( @@ ( \",\" @@ )* \",\"? )? \"]\""`
}

type gSelect struct {
	Pos   lexer.Position
	Path  []string `parser:"@Ident ( \".\" @Ident )*"`
	Value *gValue  `parser:"\":\" @@"`
}

type gVariants struct {
	Pos  lexer.Position
	List []*gVariant `parser:"\"variants\" NL? \"{\" (NL|\";\")* ( @@ (NL|\";\")* )* \"}\""`
}

// gVariant is `name { blocks }`; vary and variants inside are parsed to be
// reported as errors.
type gVariant struct {
	Pos   lexer.Position
	Name  string   `parser:"@Ident"`
	Items []*gItem `parser:"NL? \"{\" (NL|\";\")* ( @@ (NL|\";\")* )* \"}\""`
}

// gEntry is a block `name { ... }` or a stray setting `key value`. A
// malformed expect block is reported as such, not read as a block.
type gEntry struct {
	Pos      lexer.Position
	Name     string      `parser:"(?! \"expect\") @Ident"`
	Settings []*gSetting `parser:"( NL? \"{\" (NL|\";\")* ( @@ (NL|\";\")* )* \"}\""`
	Value    *gValue     `parser:"| @@ (?= NL | \";\" | \"}\") )"`
}

type gSetting struct {
	Pos   lexer.Position
	Key   string  `parser:"@Ident"`
	Value *gValue `parser:"@@ (?= NL | \";\" | \"}\")"`
}

type gVary struct {
	Pos  lexer.Position
	Zip  []*gAxis `parser:"\"vary\" ( \"zip\" \"{\" (NL|\";\")* ( @@ (?= NL | \";\" | \"}\") (NL|\";\")* )* \"}\""`
	Axis *gAxis   `parser:"| @@ (?= NL | \";\" | \"}\") )"`
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
)

// Parse parses one .sink file. The error is a *Error or an ErrorList, each
// with a position. Parse never panics.
func Parse(filename string, src []byte) (f *File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, &Error{Pos: Pos{File: filename, Line: 1, Col: 1}, Msg: fmt.Sprintf("internal error while parsing: %v", r)}
		}
	}()
	g, err := parser.ParseBytes(filename, src)
	if err != nil {
		return nil, syntaxError(filename, src, err)
	}
	f, cerrs := convert(filename, g)
	if len(cerrs) > 0 {
		return nil, cerrs.err()
	}
	return f, nil
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
		if ge.On != nil {
			e.On, e.OnPos = ge.On.Name, toPos(ge.On.Pos)
		}
		for _, it := range ge.Items {
			switch {
			case it.Expect != nil:
				e.Expects = append(e.Expects, convertExpect(it.Expect, &errs))
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

func convertExpect(g *gExpect, errs *ErrorList) *Expect {
	x := &Expect{Pos: toPos(g.Pos)}
	for _, gc := range g.Claims {
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
		case m.Operand != nil:
			s.Terms = append(s.Terms, convertOperand(m.Operand, m.Sign == "-"))
		case (*m.Signed)[0] == '+' || (*m.Signed)[0] == '-':
			n := convertValue(&gValue{Pos: m.Pos, Number: m.Signed}).(*Number)
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
		t.Number = convertValue(&gValue{Pos: g.Pos, Number: g.Number}).(*Number)
		return t
	}
	m := &MetricRef{Pos: toPos(g.Metric.Pos), Name: g.Metric.Name}
	if g.Metric.Paren != nil {
		for _, a := range g.Metric.Paren.Args {
			m.Args = append(m.Args, &Arg{Pos: toPos(a.Pos), Name: a.Name, Value: convertValue(a.Value)})
		}
	}
	if g.Metric.Selector != nil {
		for _, sel := range g.Metric.Selector.Items {
			m.Selector = append(m.Selector, &Select{Pos: toPos(sel.Pos), Path: strings.Join(sel.Path, "."), Value: convertValue(sel.Value)})
		}
	}
	t.Metric = m
	return t
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
		case it.Expect != nil:
			*errs = append(*errs, &Error{Pos: toPos(it.Expect.Pos), Msg: fmt.Sprintf(
				"expect inside variant %q: state expectations in the experiment, selecting the variant: sink_1[variant: %s] > 50", gv.Name, gv.Name)})
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

// Package dsl is the syntax layer of the .sink language: lexer, grammar, a
// plain, positioned syntax tree with the file's comments (Parse) and the
// canonical formatter (Format), which prints that tree. It knows nothing
// about the settings a model, data set or training run accepts; package
// compiler resolves the tree against config.Schema.
package dsl

import "fmt"

// Pos is a position in a source file. Line and Col are 1-based; Col counts
// characters (runes), not bytes.
type Pos struct {
	File      string
	Line, Col int
}

// String returns "file:line:col".
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Before reports whether p sorts before q (by file, line, then column).
func (p Pos) Before(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// File is one parsed .sink file.
type File struct {
	Name        string
	Imports     []*Import // `import "path"` lines, which come before any experiment
	Experiments []*Experiment
	Comments    []*Comment // every comment, in source order
}

// Comment is a `# ...` or `// ...` comment, which runs to the end of its
// line. Text is the comment as written, trailing blanks removed.
type Comment struct {
	Pos  Pos
	Text string
}

// Import is `import "path/base.sink"`: the path is relative to the importing
// file's directory.
type Import struct {
	Pos      Pos // of the `import` keyword
	Path     string
	PathPos  Pos    // of the string
	PathText string // the string as written, quotes included
}

// Experiment is `experiment NAME [extends PARENT [on BASE]] { ... }`.
type Experiment struct {
	Pos        Pos // of the `experiment` keyword
	Name       string
	NamePos    Pos
	Extends    string // "" when there is no parent
	ExtendsPos Pos
	// On is the new base of a rebased experiment (`extends STUDY on BASE`):
	// STUDY's own settings, axes and claims applied on BASE instead of on the
	// ancestor they share. "" when not rebased.
	On             string
	OnPos          Pos
	Lbrace, Rbrace Pos        // of the body
	Blocks         []*Block   // `model { ... }` etc., in source order
	Varies         []*Vary    // in source order
	Expects        []*Expect  // `expect { ... }` blocks, in source order
	Stray          []*Setting // `key value` written directly in the experiment body (an error)
}

// Expect is `expect { claims }`: what the experiment expects of its results.
type Expect struct {
	Pos            Pos // of the `expect` keyword
	Lbrace, Rbrace Pos
	Claims         []*Claim
}

// Claim is one line of an expect block: `[disagrees] SUM OP SUM`, e.g.
// `sink_1[attention: softmax] > sink_1[attention: sigmoid] + 50`.
type Claim struct {
	Pos Pos // of its first token
	// Disagrees marks a claim known not to hold at the scale the file runs
	// at (written `disagrees` before the claim).
	Disagrees   bool
	Left, Right *Sum
	Op          string // "<", ">", "<=" or ">="
	OpPos       Pos
}

// Sum is terms added together: `a + b - 3`.
type Sum struct {
	Pos   Pos
	Terms []*Term
}

// Term is a signed number or metric in a Sum.
type Term struct {
	Pos    Pos     // of the number or metric (not of its sign)
	Neg    bool    // subtracted (`- x`, or a number written with its minus sign)
	Number *Number // a constant, or
	Metric *MetricRef
}

// MetricRef is `NAME[(args)][[selectors]]`: a metric of the runs that the
// selectors pick, e.g. `sink_1(eps: 0.5)[attention: softmax, heads: 4]`.
type MetricRef struct {
	Pos      Pos
	Name     string
	Args     []*Arg
	Selector []*Select
	// The brackets, if written: (Lparen, Rparen) around Args and (Lbrack,
	// Rbrack) around Selector.
	Lparen, Rparen, Lbrack, Rbrack Pos
}

// Select is `path: value` in a MetricRef's selector.
type Select struct {
	Pos   Pos
	Path  string
	Value Expr
}

// Block is `NAME { settings }`.
type Block struct {
	Pos            Pos
	Name           string
	Lbrace, Rbrace Pos
	Settings       []*Setting
}

// Setting is `key value`.
type Setting struct {
	Pos   Pos // of the key
	Key   string
	Value Expr
}

// Vary is `vary PATH [values]` (one axis), `vary zip { PATH [values] ... }`
// (paired axes) or `variants { NAME { blocks } ... }` (one axis whose values
// are named sets of settings; Axes is then empty and Variants non-nil).
type Vary struct {
	Pos  Pos
	Zip  bool
	Axes []*Axis
	// Lbrace and Rbrace are the braces of a zip or variants block.
	Lbrace, Rbrace Pos
	// IsVariants marks a variants block; Variants are its variants.
	IsVariants bool
	Variants   []*Variant
}

// Variant is one `NAME { blocks }` of a variants block.
type Variant struct {
	Pos            Pos // of the name
	Name           string
	Lbrace, Rbrace Pos
	Blocks         []*Block
	Stray          []*Setting // `key value` written directly in the variant (an error)
}

// Axis is one `PATH [values]` of a vary statement.
type Axis struct {
	Pos    Pos // of the path
	Path   string
	Values *List
}

// Expr is a value: *Number, *String, *Ident, *List or *Call.
type Expr interface {
	Position() Pos
	exprNode()
}

// Number is a numeric literal. IsInt is set when the literal has no
// fraction or exponent; Int then holds its value. Float always holds it.
type Number struct {
	Pos   Pos
	Text  string
	IsInt bool
	Int   int64
	Float float64
}

// String is a string literal; Value is unquoted, Text as written.
type String struct {
	Pos   Pos
	Value string
	Text  string
}

// Ident is a bare identifier (an enum value, true/false, or a constructor
// kind without arguments).
type Ident struct {
	Pos  Pos
	Name string
}

// List is `[v, v, ...]`; Pos is its "[".
type List struct {
	Pos    Pos
	Elems  []Expr
	Rbrack Pos
}

// Call is a constructor value `kind(arg: v, ...)`, written with parentheses.
type Call struct {
	Pos            Pos
	Name           string
	Args           []*Arg
	Lparen, Rparen Pos
}

// Arg is `name: value` inside a Call.
type Arg struct {
	Pos   Pos
	Name  string
	Value Expr
}

func (n *Number) Position() Pos { return n.Pos }
func (n *String) Position() Pos { return n.Pos }
func (n *Ident) Position() Pos  { return n.Pos }
func (n *List) Position() Pos   { return n.Pos }
func (n *Call) Position() Pos   { return n.Pos }

func (*Number) exprNode() {}
func (*String) exprNode() {}
func (*Ident) exprNode()  {}
func (*List) exprNode()   {}
func (*Call) exprNode()   {}

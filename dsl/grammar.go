package dsl

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar of .sink files, in participle's struct tags: the one
// description of the language. Parse builds the syntax tree of ast.go
// from what it reads.
//
// The grammar also reads malformed input, so that a syntax error can be
// worded from where it is in the grammar: a part that may be missing has a
// `want` tag, which says what the reader expected there, and so does an
// error tail (Junk: the tokens that do not fit, up to where the statement
// or list element ends). A file is valid when no wanted part is missing
// and there is no error tail; syntaxCheck reports the first. Where the
// malformed reading of a statement competes with a valid one, it is the
// later alternative, so a valid file is read as if the grammar read valid
// files only.
//
// Statements in braces and at the top level end at a newline, a ";" or
// the "}" of their block; a statement that ends with a block (anything in
// braces) ends there, so blocks may follow each other on a line. A newline
// may come between a header and its "{".

type gFile struct {
	Tops []*gTop `parser:"(NL | \";\")* ( @@ (NL | \";\")* )*"`
}

type gTop struct {
	Pos        lexer.Position
	Import     *gImport     `parser:"  @@"`
	Experiment *gExperiment `parser:"| @@"`
	Junk       *gJunk       `parser:"| @@" want:", expected \"experiment NAME { ... }\""`
}

type gImport struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Path   *gString `parser:"\"import\" @@?" want:", expected the imported file in double quotes: import \"base.sink\""`
	Junk   *gJunk   `parser:"@@?" want:": end the import with a newline or \";\" first"`
}

type gString struct {
	Pos   lexer.Position
	Value string `parser:"@String"`
}

type gName struct {
	Pos  lexer.Position
	Name string `parser:"@Ident"`
}

type gExperiment struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Name    *gName    `parser:"\"experiment\" @@?" want:", expected a name"`
	Extends *gExtends `parser:"@@?"`
	Body    *gBody    `parser:"( @@" want:", expected \"{\""`
	Junk    *gJunk    `parser:"| @@ )?"`
}

type gExtends struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gName `parser:"\"extends\" @@?" want:", expected a name"`
	On     *gOn   `parser:"@@?"`
}

type gOn struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gName `parser:"\"on\" @@?" want:", expected a name"`
}

// gBody is the body of an experiment or a variant.
type gBody struct {
	Pos    lexer.Position
	Lbrace *gLbrace `parser:"( NL (?= \"{\") )? @@ (NL | \";\")*"`
	Items  []*gItem `parser:"( (?! \"}\") @@ (NL | \";\")* )*"`
	Rbrace *gRbrace `parser:"@@"`
}

type gItem struct {
	Pos      lexer.Position
	Expect   *gExpect   `parser:"  @@"`
	Variants *gVariants `parser:"| @@"`
	Entry    *gEntry    `parser:"| @@"`
	Vary     *gVary     `parser:"| @@"`
	Bad      *gBadEntry `parser:"| @@"`
	// The wording is the experiment's; in a variant, syntaxCheck says
	// "expected a block".
	Junk *gJunk `parser:"| @@" want:", expected a block, vary or variants"`
}

type gExpect struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Claims *gClaims `parser:"\"expect\" ( @@" want:", expected \"{\" or a value"`
	Junk   *gJunk   `parser:"| @@ )?"`
}

type gClaims struct {
	Pos    lexer.Position
	Lbrace *gLbrace  `parser:"( NL (?= \"{\") )? @@ (NL | \";\")*"`
	List   []*gClaim `parser:"( (?! \"}\") @@ (NL | \";\")* )*"`
	Rbrace *gRbrace  `parser:"@@"`
}

type gClaim struct {
	Pos       lexer.Position
	EndPos    lexer.Position
	Disagrees bool   `parser:"@\"disagrees\"?"`
	Left      *gSum  `parser:"@@?" want:", expected a claim, e.g. sink_1[attention: softmax] > 50"`
	Op        *gOp   `parser:"@@?" want:", expected \"<\", \">\", \"<=\" or \">=\""`
	Right     *gSum  `parser:"@@?" want:", expected a number or a metric"`
	Junk      *gJunk `parser:"@@?" want:": end the claim with a newline or \";\" first"`
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
	Pos    lexer.Position
	Term   *gSigned `parser:"  @@"`
	Signed *string  `parser:"| @Number"`
}

type gSigned struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Sign    string    `parser:"@( \"+\" | \"-\" )"`
	Operand *gOperand `parser:"@@?" want:", expected a number or a metric"`
}

type gOperand struct {
	Pos    lexer.Position
	Number *string  `parser:"@Number"`
	Metric *gMetric `parser:"| @@"`
}

type gMetric struct {
	Pos      lexer.Position
	Name     string     `parser:"@Ident"`
	Args     *gArgs     `parser:"@@?"`
	Selector *gSelector `parser:"@@?"`
}

type gSelector struct {
	Pos    lexer.Position
	Items  []*gSelect `parser:"\"[\" @@ ( \",\" @@ )*"`
	Rbrack *gRbrack   `parser:"@@"`
}

// gSelect is `path: value` in a selector. Like every element of a list, it
// may be empty: only the last may be (`[a: 1,]`, `[]`).
type gSelect struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Path   *gPath      `parser:"@@?" want:", expected a setting path (write sink_1[path: value])"`
	Value  *gColonThen `parser:"@@?" want:", expected \":\" after the setting path (write path: value)"`
	Junk   *gElemJunk  `parser:"@@?" want:", expected \",\" or \"]\""`
}

// gColonThen is `: value`.
type gColonThen struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Value  *gValue `parser:"\":\" @@?" want:", expected a value"`
}

type gPath struct {
	Pos   lexer.Position
	First string      `parser:"@Ident"`
	Rest  []*gDotName `parser:"@@*"`
}

type gDotName struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gName `parser:"\".\" @@?" want:", expected a name"`
}

// gVariants is `variants { name { items } ... }`. Braces that hold only
// settings are read as a block named variants instead, which the compiler
// explains.
type gVariants struct {
	Pos      lexer.Position
	Settings *gSettings    `parser:"\"variants\" (?! @@ )"`
	Body     *gVariantList `parser:"@@"`
}

// gSettings is braces that hold settings and nothing else.
type gSettings struct {
	List []*gKeyValue `parser:"( NL (?= \"{\") )? \"{\" (NL | \";\")* ( @@ (NL | \";\")* )+ \"}\""`
}

type gKeyValue struct {
	Key   string  `parser:"@Ident"`
	Value *gValue `parser:"@@ (?= NL | \";\" | \"}\")"`
}

type gVariantList struct {
	Pos    lexer.Position
	Lbrace *gLbrace    `parser:"( NL (?= \"{\") )? @@ (NL | \";\")*"`
	List   []*gVariant `parser:"( (?! \"}\") @@ (NL | \";\")* )*"`
	Rbrace *gRbrace    `parser:"@@"`
}

// gVariant is `name { items }`; vary, variants and expect inside are read
// to be reported as errors.
type gVariant struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gName `parser:"@@?" want:", expected a variant name"`
	Body   *gBody `parser:"( @@" want:", expected \"{\""`
	Junk   *gJunk `parser:"| @@ )?"`
}

// gEntry is a block `name { ... }` or a stray setting `key value` (which the
// compiler reports). An expect block is never read as one.
type gEntry struct {
	Pos   lexer.Position
	Name  string  `parser:"(?! \"expect\") @Ident"`
	Block *gBlock `parser:"( @@"`
	Value *gValue `parser:"| @@ (?= NL | \";\" | \"}\") )"`
}

// gBadEntry is a name followed by neither a block nor a value that ends
// where a statement ends.
type gBadEntry struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   string  `parser:"(?! \"expect\") @Ident"`
	Value  *gValue `parser:"@@?" want:", expected \"{\" or a value"`
	Junk   *gJunk  `parser:"@@?" want:": end the previous setting with a newline or \";\" first"`
}

type gBlock struct {
	Pos      lexer.Position
	Lbrace   *gLbrace    `parser:"( NL (?= \"{\") )? @@ (NL | \";\")*"`
	Settings []*gSetting `parser:"( (?! \"}\") @@ (NL | \";\")* )*"`
	Rbrace   *gRbrace    `parser:"@@"`
}

type gSetting struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Key    *gName  `parser:"@@?" want:", expected a setting name"`
	Value  *gValue `parser:"@@?" want:", expected a value"`
	Junk   *gJunk  `parser:"@@?" want:": end the previous setting with a newline or \";\" first"`
}

// gVary is `vary path [values]` or `vary zip { ... }`. (`vary` followed by a
// list, number or string is a setting, as any other name would be.)
type gVary struct {
	Pos    lexer.Position
	EndPos lexer.Position
	What   *gVaryWhat `parser:"\"vary\" (?! \"[\" | Number | String) ( @@" want:", expected a setting path or \"zip\""`
	Junk   *gJunk     `parser:"| @@ )?"`
}

type gVaryWhat struct {
	Pos  lexer.Position
	Zip  *gZip  `parser:"  \"zip\" @@"`
	Axis *gAxis `parser:"| @@"`
}

type gZip struct {
	Pos    lexer.Position
	Items  []*gZipItem `parser:"\"{\" (NL | \";\")* ( (?! \"}\") @@ (NL | \";\")* )*"`
	Rbrace *gRbrace    `parser:"@@"`
}

type gZipItem struct {
	Pos  lexer.Position
	Axis *gAxis `parser:"  @@"`
	Junk *gJunk `parser:"| @@" want:", expected a setting path"`
}

type gAxis struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Path   *gPath `parser:"@@"`
	Values *gList `parser:"@@?" want:", expected a list of values [v1, v2, ...]"`
	Junk   *gJunk `parser:"@@?" want:": end the previous setting with a newline or \";\" first"`
}

type gValue struct {
	Pos    lexer.Position
	List   *gList  `parser:"  @@"`
	Call   *gCall  `parser:"| @@"`
	Number *string `parser:"| @Number"`
	String *string `parser:"| @String"`
}

type gList struct {
	Pos    lexer.Position
	Elems  []*gElem `parser:"\"[\" @@ ( \",\" @@ )*"`
	Rbrack *gRbrack `parser:"@@"`
}

type gElem struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Value  *gValue    `parser:"@@?" want:", expected a value"`
	Junk   *gElemJunk `parser:"@@?" want:", expected \",\" or \"]\""`
}

// gCall is a kind, with arguments in parentheses or without.
type gCall struct {
	Pos  lexer.Position
	Name string `parser:"@Ident"`
	Args *gArgs `parser:"@@?"`
}

type gArgs struct {
	Pos    lexer.Position
	List   []*gArg  `parser:"\"(\" @@ ( \",\" @@ )*"`
	Rparen *gRparen `parser:"@@"`
}

type gArg struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gName      `parser:"@@?" want:", expected an argument (name: value) or \")\""`
	Value  *gColonThen `parser:"@@?" want:", expected \":\" after the argument name (write name: value)"`
	Junk   *gElemJunk  `parser:"@@?" want:", expected \",\" or \")\""`
}

type gLbrace struct {
	Pos lexer.Position
	X   string `parser:"@\"{\""`
}

type gRbrace struct {
	Pos lexer.Position
	X   string `parser:"@\"}\""`
}

type gRbrack struct {
	Pos lexer.Position
	X   string `parser:"@\"]\""`
}

type gRparen struct {
	Pos lexer.Position
	X   string `parser:"@\")\""`
}

// gJunk is the rest of a malformed statement: tokens up to the newline,
// ";" or "}" that ends it, a bracketed group counting as one.
type gJunk struct {
	Pos   lexer.Position
	Items []*gAny `parser:"( (?! NL | \";\") @@ )+"`
}

// gElemJunk is the rest of a malformed list element or argument: tokens up
// to the "," or closing bracket that ends it.
type gElemJunk struct {
	Pos   lexer.Position
	Items []*gAny `parser:"( (?! \",\") @@ )+"`
}

// gAny is a token that neither opens nor closes a bracket, or a group in
// brackets with anything inside. (The lexer has checked that brackets
// match.)
type gAny struct {
	Pos   lexer.Position
	Token *string `parser:"  @~( \"{\" | \"(\" | \"[\" | \"}\" | \")\" | \"]\" )"`
	Group []*gAny `parser:"| \"{\" @@* \"}\" | \"(\" @@* \")\" | \"[\" @@* \"]\""`
}

// parser reads the tokens of lex (lex's rawLexer gives it the token names).
var parser = participle.MustBuild[gFile](
	participle.Lexer(rawLexer),
	// Unbounded: an alternative that fails is always given up for the
	// next, however far it read (the last ones read anything).
	participle.UseLookahead(participle.MaxLookahead),
)

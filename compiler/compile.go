package compiler

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/dsl"
)

// MaxRuns bounds the number of runs one experiment may expand into;
// MaxTotalRuns bounds the runs of one compile call.
const (
	MaxRuns      = 10000
	MaxTotalRuns = 50000
)

// Experiment is one compiled experiment: its grid expanded into runs, and
// its claims. The type is config's, so that results can read experiments
// without importing the compiler.
type Experiment = config.Experiment

// CompileFiles reads, parses, resolves, checks and expands the given .sink
// files and the files they import. Positions in errors use the paths as
// given (imported files: joined to their importer's directory); each run's
// SourceDir is the absolute directory of its file. Only the experiments of
// the given files are returned: an imported file's experiments serve as
// parents for extends. The error is an ErrorList.
func CompileFiles(paths []string) ([]*Experiment, error) {
	return compile(loader{
		read: os.ReadFile,
		sourceDir: func(name string) string {
			dir, err := filepath.Abs(filepath.Dir(name))
			if err != nil {
				return filepath.Dir(name)
			}
			return dir
		},
	}, paths)
}

// Compile is CompileFiles from memory: files maps file names to sources.
// Every file is compiled (in name order), and imports are looked up among
// the map's names. Each run's SourceDir is the directory part of its file
// name.
func Compile(files map[string][]byte) ([]*Experiment, error) {
	order := make([]string, 0, len(files))
	for name := range files {
		order = append(order, name)
	}
	sort.Strings(order)
	return compileMap(files, order)
}

// compileMap compiles the roots, importing from files.
func compileMap(files map[string][]byte, roots []string) ([]*Experiment, error) {
	return compile(loader{
		read: func(name string) ([]byte, error) {
			if src, ok := files[name]; ok {
				return src, nil
			}
			if src, ok := files[filepath.Clean(name)]; ok {
				return src, nil
			}
			return nil, os.ErrNotExist
		},
		sourceDir: filepath.Dir,
	}, roots)
}

// loader reads source files.
type loader struct {
	read      func(name string) ([]byte, error)
	sourceDir func(name string) string
}

// MaxFiles bounds the number of files one compile call reads, imports
// included.
const MaxFiles = 1000

// srcFile is one loaded file.
type srcFile struct {
	name    string // as shown in positions
	src     []byte
	root    bool // named by the caller: its experiments run
	loading bool // on the import stack (cycle detection)
}

func compile(ld loader, roots []string) (exps []*Experiment, err error) {
	defer func() {
		if r := recover(); r != nil {
			exps, err = nil, ErrorList{{Pos: dsl.Pos{File: firstOr(roots), Line: 1, Col: 1}, Msg: fmt.Sprintf("internal compiler error (please report it): %v", r)}}
		}
	}()
	c := &compiler{byName: map[string]*expState{}, sourceDir: ld.sourceDir, seen: map[string]bool{},
		files: map[string]*srcFile{}, ld: ld}
	var rootFiles []*srcFile
	for _, p := range roots {
		if f := c.load(p, nil); f != nil && !f.root {
			f.root = true
			rootFiles = append(rootFiles, f)
		}
	}
	for _, es := range c.all {
		c.resolve(es)
	}
	total := 0
	for _, f := range rootFiles {
		for _, es := range c.all {
			if es.file != f.name || es.failed {
				continue
			}
			if x := c.expand(es); x != nil {
				x.Expectations = c.expectations(es, x)
				exps = append(exps, x)
				total += len(x.Runs)
				if total > MaxTotalRuns {
					c.errorf(es.ast.NamePos, "these files expand into more than %d runs in all; compile fewer at a time", MaxTotalRuns)
					break
				}
			}
		}
		if total > MaxTotalRuns {
			break
		}
	}
	if len(c.errs) > 0 {
		return nil, c.attachSources()
	}
	return exps, nil
}

// load reads and parses a file and, first, the files it imports; it
// registers their experiments. imp is the import statement that names the
// file (nil for a root). It returns nil when the file cannot be read.
func (c *compiler) load(name string, imp *dsl.Import) *srcFile {
	key := filepath.Clean(name)
	if f, ok := c.files[key]; ok {
		if f.loading && imp != nil {
			c.errorf(imp.PathPos, "import cycle: %s", c.chain(f))
		}
		return f
	}
	at := dsl.Pos{File: name}
	if imp != nil {
		at = imp.PathPos
	}
	if len(c.files) >= MaxFiles {
		c.errorf(at, "too many files: more than %d in one run of sinkrun, imports included", MaxFiles)
		c.parseFailed = true
		return nil
	}
	src, err := c.ld.read(name)
	if err != nil {
		c.parseFailed = true // experiments may be missing: no "unknown experiment" errors
		why := err.Error()
		var pe *fs.PathError
		if errors.Is(err, fs.ErrNotExist) {
			why = "no such file"
		} else if errors.As(err, &pe) {
			why = pe.Err.Error()
		}
		if imp != nil {
			c.errorf(at, "cannot import %q: %s: %s", imp.Path, name, why)
		} else {
			c.errorf(at, "cannot read file: %s", why)
		}
		return nil
	}
	f := &srcFile{name: name, src: src, loading: true}
	c.files[key] = f
	defer func() { f.loading = false }()
	ast, perr := dsl.Parse(name, src)
	if perr != nil {
		c.parseFailed = true
		for _, e := range asList(perr) {
			c.add(e)
		}
		return f
	}
	seenImp := map[string]dsl.Pos{}
	for _, im := range ast.Imports {
		if im.Path == "" {
			c.errorf(im.PathPos, "import: the file name is empty")
			continue
		}
		target := im.Path
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(name), filepath.FromSlash(target))
		}
		if p, dup := seenImp[filepath.Clean(target)]; dup {
			c.errorf(im.PathPos, "%q is already imported at line %d", im.Path, p.Line)
			continue
		}
		seenImp[filepath.Clean(target)] = im.PathPos
		c.stack = append(c.stack, f)
		c.load(target, im)
		c.stack = c.stack[:len(c.stack)-1]
	}
	for _, e := range ast.Experiments {
		es := &expState{ast: e, file: name}
		if prev, dup := c.byName[e.Name]; dup {
			c.errorf(e.NamePos, "experiment %q is already defined at %s", e.Name, prev.ast.NamePos)
			continue
		}
		c.byName[e.Name] = es
		c.all = append(c.all, es)
	}
	return f
}

// chain describes the import stack from f up to the current file.
func (c *compiler) chain(f *srcFile) string {
	var names []string
	on := false
	for _, s := range c.stack {
		if s == f {
			on = true
		}
		if on {
			names = append(names, s.name)
		}
	}
	names = append(names, f.name)
	return strings.Join(names, " -> ")
}

// MaxErrors bounds the errors one compile call reports.
const MaxErrors = 200

// attachSources sorts the errors, keeps the first MaxErrors, and gives each
// the text of its source line, so that FormatErrors can show imported files
// too.
func (c *compiler) attachSources() ErrorList {
	c.errs.sort()
	if len(c.errs) > MaxErrors {
		more := len(c.errs) - MaxErrors
		c.errs = append(c.errs[:MaxErrors:MaxErrors], &Error{Pos: c.errs[MaxErrors].Pos,
			Msg: fmt.Sprintf("too many errors: %d more not shown", more)})
	}
	starts := map[string][]int{} // line start offsets per file
	for _, e := range c.errs {
		f, ok := c.files[filepath.Clean(e.Pos.File)]
		if !ok || e.Pos.Line < 1 {
			continue
		}
		st, ok := starts[f.name]
		if !ok {
			st = []int{0}
			for i, b := range f.src {
				if b == '\n' {
					st = append(st, i+1)
				}
			}
			starts[f.name] = st
		}
		if e.Pos.Line > len(st) {
			continue
		}
		line := f.src[st[e.Pos.Line-1]:]
		if k := bytes.IndexByte(line, '\n'); k >= 0 {
			line = line[:k]
		}
		e.line, e.hasLine = strings.TrimRight(string(line), "\r"), true
	}
	return c.errs
}

// sourceLine returns line n (1-based) of src.
func sourceLine(src []byte, n int) (string, bool) {
	for i := 1; i < n; i++ {
		k := bytes.IndexByte(src, '\n')
		if k < 0 {
			return "", false
		}
		src = src[k+1:]
	}
	if k := bytes.IndexByte(src, '\n'); k >= 0 {
		src = src[:k]
	}
	return strings.TrimRight(string(src), "\r"), true
}

func firstOr(s []string) string {
	if len(s) > 0 {
		return s[0]
	}
	return ""
}

type compiler struct {
	ld          loader
	files       map[string]*srcFile // by cleaned name
	stack       []*srcFile          // import stack
	all         []*expState
	byName      map[string]*expState
	errs        ErrorList
	seen        map[string]bool // dedup of errors
	parseFailed bool            // a file could not be read or parsed
	sourceDir   func(string) string
	tokenizers  map[string]tokenizerInfo  // by path, see loadTokenizer
	checkpoints map[string]checkpointInfo // by path, see openCheckpoint
	reported    int                       // errors reported, repeats included
}

func (c *compiler) add(e *Error) {
	c.reported++
	key := e.Error()
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.errs = append(c.errs, e)
}

func (c *compiler) errorf(pos dsl.Pos, format string, args ...any) {
	c.add(errorf(pos, format, args...))
}

func (c *compiler) addAll(l ErrorList) {
	for _, e := range l {
		c.add(e)
	}
}

// origin records where a setting's value was written.
type origin struct {
	pos   dsl.Pos
	vary  bool
	owner *expState // the experiment that wrote it
	// derived: the compiler set it from another setting written at pos
	// (a checkpoint's tokenizer).
	derived bool
}

// state is an experiment's resolved settings before grid expansion.
type state struct {
	run     reflect.Value // addressable config.Run
	origins map[string]origin
	axes    []*axis
}

func (s *state) clone() *state {
	n := &state{run: reflect.New(s.run.Type()).Elem(), origins: map[string]origin{}}
	n.run.Set(deepCopy(s.run))
	for k, v := range s.origins {
		n.origins[k] = v
	}
	n.axes = append(n.axes, s.axes...)
	return n
}

// set stores a checked value into the field at path and records origins.
func (s *state) set(f *config.Field, t typed, vary bool, owner *expState) {
	f.Value(s.run).Set(deepCopy(t.val))
	if f.IsConstructor() {
		for k := range s.origins {
			if strings.HasPrefix(k, f.Path+".") {
				delete(s.origins, k)
			}
		}
		for k, p := range t.sub {
			s.origins[k] = origin{pos: p, vary: vary, owner: owner}
		}
	}
	s.origins[f.Path] = origin{pos: t.pos, vary: vary, owner: owner}
}

// axis is one dimension of the grid: a single vary, a zip group, or a
// variants block.
type axis struct {
	pos      dsl.Pos
	zip      bool
	owner    *expState
	paths    []string
	fields   []*config.Field
	tuples   [][]typed    // tuples[i][j]: i-th value of path j
	variants []variantVal // a variants block: paths is ["variant"], no fields or tuples
}

// size is the number of values of the axis.
func (a *axis) size() int {
	if a.variants != nil {
		return len(a.variants)
	}
	return len(a.tuples)
}

// variantPath is the varied setting that names a run's variant.
const variantPath = "variant"

// variantVal is one named variant: the settings it overrides.
type variantVal struct {
	name string
	pos  dsl.Pos
	sets []fieldValue
}

type fieldValue struct {
	f *config.Field
	t typed
}

type expState struct {
	ast       *dsl.Experiment
	file      string
	state     *state
	resolving bool
	done      bool
	failed    bool // resolution reported errors: do not expand
	// claimsFrom are the experiments whose expect claims a rebased
	// experiment carries before its own (the study's line, oldest first).
	claimsFrom []*dsl.Experiment
}

var schema = config.Schema()

func (c *compiler) resolve(es *expState) {
	if es.done {
		return
	}
	e := es.ast
	if es.resolving {
		c.errorf(e.ExtendsPos, "experiment %q extends itself (through %q)", e.Name, e.Extends)
		es.failed = true
		return
	}
	es.resolving = true
	nerr := len(c.errs)
	defer func() {
		es.resolving, es.done = false, true
		if len(c.errs) > nerr {
			es.failed = true
		}
	}()

	st := newState()
	if e.Extends != "" {
		if parent := c.named(es, e.Extends, e.ExtendsPos, "extend itself"); parent == nil {
			es.failed = true
		} else {
			c.resolve(parent)
			if parent.state != nil {
				st = parent.state.clone()
			}
			if parent.failed {
				es.failed = true
			}
		}
	}
	es.state = st
	if e.On != "" {
		// Rebase only a valid study (its line is then finite and resolved);
		// a failed rebase applies nothing more, which would only add errors.
		if es.failed || len(c.errs) > nerr {
			return
		}
		rebased, ok := c.rebaseStudy(es)
		if !ok {
			es.failed = true
			return
		}
		st, es.state = rebased, rebased
	}
	c.applyOwn(es, st)
}

// rebaseStudy resolves `extends STUDY on BASE`: BASE's resolved state, then
// the own settings and axes of STUDY and of its ancestors below the one BASE
// also descends from (the ancestor being replaced), oldest first; their
// expect claims come along (es.claimsFrom). STUDY is resolved and valid.
// It reports why and returns false when BASE cannot be a base.
func (c *compiler) rebaseStudy(es *expState) (*state, bool) {
	e := es.ast
	base := c.named(es, e.On, e.OnPos, "be its own base")
	if base == nil {
		return nil, false
	}
	if base.resolving {
		c.errorf(e.OnPos, "experiment %q cannot be the base of %q: it depends on %q itself", e.On, e.Name, e.Name)
		return nil, false
	}
	c.resolve(base)
	if base.failed || base.state == nil {
		return nil, false // its errors are reported at its own lines
	}
	// Both lines are finite: resolve has refused cycles and unknown parents.
	baseLine := map[*expState]bool{}
	for b := base; b != nil; b = c.byName[b.ast.Extends] {
		baseLine[b] = true
	}
	var line []*expState // the study's line down from below the shared ancestor
	for s := c.byName[e.Extends]; !baseLine[s]; s = c.byName[s.ast.Extends] {
		if s == nil {
			c.errorf(e.OnPos, "%q shares no ancestor with %q: the base must extend one of the experiments %q builds on (e.g. its recipe)", e.On, e.Extends, e.Extends)
			return nil, false
		}
		line = append(line, s)
	}
	if len(line) == 0 {
		c.errorf(e.OnPos, "%q descends from %q: extend %q directly", e.On, e.Extends, e.On)
		return nil, false
	}
	rebased := base.state.clone()
	for i := len(line) - 1; i >= 0; i-- {
		c.applyOwn(line[i], rebased)
		es.claimsFrom = append(es.claimsFrom, line[i].ast)
	}
	return rebased, true
}

// named looks up the experiment that es names at pos (its parent or its
// base), which must exist, be another experiment and, in the same file, come
// before es; it reports why not and returns nil. self completes "experiment
// X cannot ..." for an experiment that names itself.
func (c *compiler) named(es *expState, name string, pos dsl.Pos, self string) *expState {
	e := es.ast
	other, ok := c.byName[name]
	switch {
	case !ok:
		if !c.parseFailed {
			c.errorf(pos, "unknown experiment %q%s", name, didYouMean(name, c.names()))
		}
	case other == es:
		c.errorf(pos, "experiment %q cannot %s", e.Name, self)
	case other.file == es.file && !other.ast.Pos.Before(e.Pos):
		c.errorf(pos, "experiment %q is defined later in this file (line %d); define it before %q", name, other.ast.Pos.Line, e.Name)
	default:
		return other
	}
	return nil
}

// names lists every experiment name, sorted, for suggestions.
func (c *compiler) names() []string {
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// applyOwn applies es's own settings and axes (not its parent's) to st.
func (c *compiler) applyOwn(es *expState, st *state) {
	e := es.ast
	// Settings, block by block.
	c.settings(e.Stray, e.Blocks, "this experiment", func(f *config.Field, t typed) { st.set(f, t, false, es) })
	// Vary axes and variants.
	own := map[string]dsl.Pos{}
	for _, v := range e.Varies {
		var ax *axis
		if v.IsVariants {
			ax = c.variantsAxis(es, v, own)
		} else {
			ax = c.varyAxis(es, v, own)
		}
		if ax == nil {
			continue
		}
		// A child's axis replaces an inherited axis on the same path.
		replaced := false
		for i := 0; i < len(st.axes); i++ {
			old := st.axes[i]
			if old.owner == es || !overlaps(old.paths, ax.paths) {
				continue
			}
			if !replaced {
				st.axes[i] = ax
				replaced = true
			} else {
				st.axes = append(st.axes[:i:i], st.axes[i+1:]...)
				i--
			}
		}
		if !replaced {
			st.axes = append(st.axes, ax)
		}
	}
	c.checkVariantConflicts(es, st.axes)
}

// settings checks stray settings and blocks of settings (of an experiment
// or a variant, named by where) and passes each valid one to apply.
func (c *compiler) settings(stray []*dsl.Setting, blocks []*dsl.Block, where string, apply func(f *config.Field, t typed)) {
	blockNames := schema.Keys()
	for _, s := range stray {
		if f := schema.Child(s.Key); f != nil {
			c.errorf(s.Pos, "%s is a block: write %s { ... }", s.Key, s.Key)
		} else if b := blockOf(s.Key); b != "" {
			c.errorf(s.Pos, "%s belongs in the %s block: write %s { %s ... }", s.Key, b, b, s.Key)
		} else if s.Key == "variants" {
			c.errorf(s.Pos, "variants lists named sets of settings: variants { NAME { BLOCK { SETTINGS } } ... }")
		} else {
			c.errorf(s.Pos, "unknown setting %q: settings go inside a block: %s", s.Key, oneOf(blockNames))
		}
	}
	firstPos := map[string]dsl.Pos{} // "block.key" -> first setting
	for _, b := range blocks {
		bf := schema.Child(b.Name)
		if bf == nil {
			if b.Name == "variants" {
				c.errorf(b.Pos, "variants lists named sets of settings: variants { NAME { BLOCK { SETTINGS } } ... }, e.g. variants { baseline {}; small_lr { train { optimizer adamw(lr: 1e-4) } } }")
			} else {
				c.errorf(b.Pos, "unknown block %q: expected %s%s", b.Name, oneOf(blockNames), didYouMean(b.Name, append(blockNames, "variants")))
			}
			continue
		}
		for _, s := range b.Settings {
			key := b.Name + "." + s.Key
			if p, dup := firstPos[key]; dup {
				c.errorf(s.Pos, "%s is already set in %s at line %d", key, where, p.Line)
				continue
			}
			firstPos[key] = s.Pos
			f := bf.Child(s.Key)
			if f == nil {
				msg := fmt.Sprintf("unknown setting %q in the %s block%s", s.Key, b.Name, didYouMean(s.Key, bf.Keys()))
				if other := blockOf(s.Key); other != "" && other != b.Name && suggest(s.Key, bf.Keys()) == "" {
					msg += fmt.Sprintf("; %s belongs in the %s block", s.Key, other)
				}
				c.errorf(s.Pos, "%s", msg)
				continue
			}
			var errs ErrorList
			if t, ok := convert(f, s.Value, &errs); ok {
				apply(f, t)
			}
			c.addAll(errs)
		}
	}
}

// variantsAxis checks a variants block and returns its axis (path
// "variant"), or nil.
func (c *compiler) variantsAxis(es *expState, v *dsl.Vary, own map[string]dsl.Pos) *axis {
	if p, dup := own[variantPath]; dup {
		c.errorf(v.Pos, "variants are already listed in this experiment at line %d; list them all in one variants block", p.Line)
		return nil
	}
	own[variantPath] = v.Pos
	if len(v.Variants) == 0 {
		c.errorf(v.Pos, "variants: list at least one variant, e.g. variants { baseline {}; small_lr { train { optimizer adamw(lr: 1e-4) } } }")
		return nil
	}
	ax := &axis{pos: v.Pos, owner: es, paths: []string{variantPath}}
	ok := true
	names := map[string]dsl.Pos{}
	for _, vr := range v.Variants {
		if p, dup := names[vr.Name]; dup {
			c.errorf(vr.Pos, "variant %q is already listed at line %d", vr.Name, p.Line)
			ok = false
			continue
		}
		names[vr.Name] = vr.Pos
		val := variantVal{name: vr.Name, pos: vr.Pos}
		nerr := len(c.errs)
		c.settings(vr.Stray, vr.Blocks, fmt.Sprintf("variant %q", vr.Name), func(f *config.Field, t typed) {
			if f.Path == "train.seeds" {
				c.errorf(t.pos, "train.seeds cannot be set in a variant: every variant runs once per seed of the experiment")
				return
			}
			val.sets = append(val.sets, fieldValue{f, t})
		})
		if len(c.errs) > nerr {
			ok = false
		}
		ax.variants = append(ax.variants, val)
	}
	if !ok {
		return nil
	}
	return ax
}

// checkVariantConflicts reports a setting that a variant sets and another
// axis varies: one of them would silently win.
func (c *compiler) checkVariantConflicts(es *expState, axes []*axis) {
	for _, va := range axes {
		for _, v := range va.variants {
			for _, fv := range v.sets {
				for _, other := range axes {
					if other == va {
						continue
					}
					for _, p := range other.paths {
						if p == fv.f.Path || strings.HasPrefix(p, fv.f.Path+".") || strings.HasPrefix(fv.f.Path, p+".") {
							where := fmt.Sprintf("at line %d", other.pos.Line)
							if other.owner != es || other.pos.File != va.pos.File {
								where = "at " + other.pos.String()
							}
							through := ""
							if p != fv.f.Path {
								through = " (through " + p + ")"
							}
							c.errorf(fv.t.pos, "variant %q sets %s, which is also varied %s%s; set it in one place only",
								v.name, fv.f.Path, where, through)
						}
					}
				}
			}
		}
	}
}

// varyAxis checks a vary statement and returns its axis, or nil. own records
// the paths this experiment varies.
func (c *compiler) varyAxis(es *expState, v *dsl.Vary, own map[string]dsl.Pos) *axis {
	if len(v.Axes) == 0 {
		c.errorf(v.Pos, "vary zip: list at least one axis, e.g. vary zip { model.position [rope, nope]; data.context [64, 128] }")
		return nil
	}
	ax := &axis{pos: v.Pos, zip: v.Zip, owner: es}
	ok := true
	for _, a := range v.Axes {
		f := c.varyField(a)
		if f == nil {
			ok = false
			continue
		}
		if p, dup := own[a.Path]; dup {
			c.errorf(a.Pos, "%s is already varied in this experiment at line %d", a.Path, p.Line)
			ok = false
			continue
		}
		own[a.Path] = a.Pos
		ax.paths = append(ax.paths, a.Path)
		ax.fields = append(ax.fields, f)
	}
	if !ok {
		return nil
	}
	n := len(v.Axes[0].Values.Elems)
	for _, a := range v.Axes {
		if len(a.Values.Elems) == 0 {
			c.errorf(a.Values.Pos, "vary %s: the list of values is empty", a.Path)
			ok = false
		} else if len(a.Values.Elems) != n {
			c.errorf(a.Values.Pos, "vary zip: %s has %d values but %s has %d; zipped axes need the same number of values",
				a.Path, len(a.Values.Elems), v.Axes[0].Path, n)
			ok = false
		}
	}
	if !ok {
		return nil
	}
	ax.tuples = make([][]typed, n)
	for j, a := range v.Axes {
		seenVal := map[string]dsl.Pos{}
		for i, el := range a.Values.Elems {
			var errs ErrorList
			t, good := convert(ax.fields[j], el, &errs)
			c.addAll(errs)
			if !good {
				ok = false
				continue
			}
			if p, dup := seenVal[t.canon]; dup && !v.Zip {
				c.errorf(el.Position(), "vary %s: value %s is listed twice (first at line %d, column %d)", a.Path, t.canon, p.Line, p.Col)
				ok = false
			}
			seenVal[t.canon] = el.Position()
			ax.tuples[i] = append(ax.tuples[i], t)
		}
	}
	if !ok {
		return nil
	}
	return ax
}

func newState() *state {
	st := &state{run: reflect.New(reflect.TypeOf(config.Run{})).Elem(), origins: map[string]origin{}}
	st.run.Set(deepCopy(defaultRun))
	return st
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if contains(b, x) {
			return true
		}
	}
	return false
}

// blockOf returns the block that has a key named key, or "".
func blockOf(key string) string {
	for _, b := range schema.Children {
		if b.Child(key) != nil {
			return b.Key
		}
	}
	return ""
}

// allPaths lists every settable dotted path.
func allPaths() []string {
	var out []string
	var walk func(fs []config.Field)
	walk = func(fs []config.Field) {
		for _, f := range fs {
			if f.Kind {
				continue
			}
			if !f.IsBlock() {
				out = append(out, f.Path)
			}
			walk(f.Children)
		}
	}
	walk(schema.Children)
	return out
}

// varyField checks an axis path and returns its field, or nil.
func (c *compiler) varyField(a *dsl.Axis) *config.Field {
	f := schema.Lookup(a.Path)
	switch {
	case a.Path == variantPath:
		c.errorf(a.Pos, "vary: variant is not a setting; list named variants in a variants { ... } block")
		return nil
	case f == nil:
		paths := allPaths()
		hint := didYouMean(a.Path, paths)
		if hint == "" {
			last := a.Path[strings.LastIndex(a.Path, ".")+1:]
			var same []string
			for _, p := range paths {
				if strings.HasSuffix(p, "."+last) {
					same = append(same, fmt.Sprintf("%q", p))
				}
			}
			if len(same) > 0 {
				hint = " (did you mean " + strings.Join(same, " or ") + "?)"
			}
		}
		c.errorf(a.Pos, "vary: unknown setting %q%s", a.Path, hint)
		return nil
	case f.IsBlock():
		c.errorf(a.Pos, "vary: %s is a whole block; vary one of its settings, e.g. %s.%s", a.Path, a.Path, f.Keys()[0])
		return nil
	case f.Path == "train.seeds":
		c.errorf(a.Pos, "vary: seeds are not an axis; list them in train { seeds [...] } and each seed becomes a run")
		return nil
	}
	return f
}

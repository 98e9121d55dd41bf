package compiler

import (
	"fmt"
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

// Experiment is one compiled experiment: its grid expanded into runs.
type Experiment struct {
	Name, File string
	Pos        dsl.Pos
	Axes       []string // varied paths, in axis order (a zip group contributes each of its paths)
	Runs       []config.Run
}

// CompileFiles reads, parses, resolves, checks and expands the given .sink
// files. Positions in errors use the paths as given; each run's SourceDir is
// the absolute directory of its file. The error is an ErrorList.
func CompileFiles(paths []string) ([]*Experiment, error) {
	files := map[string][]byte{}
	var errs ErrorList
	var order []string
	for _, p := range paths {
		if _, dup := files[p]; dup {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, &Error{Pos: dsl.Pos{File: p}, Msg: "cannot read file: " + strings.TrimPrefix(err.Error(), "open "+p+": ")})
			continue
		}
		files[p] = src
		order = append(order, p)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return compile(files, order, func(name string) string {
		dir, err := filepath.Abs(filepath.Dir(name))
		if err != nil {
			return filepath.Dir(name)
		}
		return dir
	})
}

// Compile is CompileFiles from memory: files maps file names to sources.
// Files are processed in name order; each run's SourceDir is the directory
// part of its file name.
func Compile(files map[string][]byte) ([]*Experiment, error) {
	order := make([]string, 0, len(files))
	for name := range files {
		order = append(order, name)
	}
	sort.Strings(order)
	return compile(files, order, filepath.Dir)
}

func compile(files map[string][]byte, order []string, sourceDir func(string) string) (exps []*Experiment, err error) {
	defer func() {
		if r := recover(); r != nil {
			exps, err = nil, ErrorList{{Pos: dsl.Pos{File: firstOr(order), Line: 1, Col: 1}, Msg: fmt.Sprintf("internal compiler error (please report it): %v", r)}}
		}
	}()
	c := &compiler{byName: map[string]*expState{}, sourceDir: sourceDir, seen: map[string]bool{}}
	for _, name := range order {
		f, perr := dsl.Parse(name, files[name])
		if perr != nil {
			c.parseFailed = true
			for _, e := range asList(perr) {
				c.add(e)
			}
			continue
		}
		for _, e := range f.Experiments {
			es := &expState{ast: e, file: name}
			if prev, dup := c.byName[e.Name]; dup {
				c.errorf(e.NamePos, "experiment %q is already defined at %s", e.Name, prev.ast.NamePos)
				continue
			}
			c.byName[e.Name] = es
			c.all = append(c.all, es)
		}
	}
	for _, es := range c.all {
		c.resolve(es)
	}
	total := 0
	for _, es := range c.all {
		if es.failed {
			continue
		}
		if x := c.expand(es); x != nil {
			exps = append(exps, x)
			total += len(x.Runs)
			if total > MaxTotalRuns {
				c.errorf(es.ast.NamePos, "these files expand into more than %d runs in all; compile fewer at a time", MaxTotalRuns)
				break
			}
		}
	}
	if len(c.errs) > 0 {
		c.errs.sort()
		return nil, c.errs
	}
	return exps, nil
}

func firstOr(s []string) string {
	if len(s) > 0 {
		return s[0]
	}
	return ""
}

type compiler struct {
	all         []*expState
	byName      map[string]*expState
	errs        ErrorList
	seen        map[string]bool // dedup of errors
	parseFailed bool
	sourceDir   func(string) string
}

func (c *compiler) add(e *Error) {
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
			s.origins[k] = origin{p, vary, owner}
		}
	}
	s.origins[f.Path] = origin{t.pos, vary, owner}
}

// axis is one dimension of the grid: a single vary, or a zip group.
type axis struct {
	pos    dsl.Pos
	zip    bool
	owner  *expState
	paths  []string
	fields []*config.Field
	tuples [][]typed // tuples[i][j]: i-th value of path j
}

type expState struct {
	ast       *dsl.Experiment
	file      string
	state     *state
	resolving bool
	done      bool
	failed    bool // resolution reported errors: do not expand
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
		parent, ok := c.byName[e.Extends]
		switch {
		case !ok:
			es.failed = true
			if !c.parseFailed {
				names := make([]string, 0, len(c.byName))
				for n := range c.byName {
					names = append(names, n)
				}
				sort.Strings(names)
				c.errorf(e.ExtendsPos, "unknown experiment %q%s", e.Extends, didYouMean(e.Extends, names))
			}
		case parent == es:
			c.errorf(e.ExtendsPos, "experiment %q cannot extend itself", e.Name)
		case parent.file == es.file && !parent.ast.Pos.Before(e.Pos):
			c.errorf(e.ExtendsPos, "experiment %q is defined later in this file (line %d); define it before %q", e.Extends, parent.ast.Pos.Line, e.Name)
		default:
			c.resolve(parent)
			if parent.state != nil {
				st = parent.state.clone()
			}
			if parent.failed {
				es.failed = true
			}
		}
	}
	// Settings, block by block.
	blockNames := schema.Keys()
	firstPos := map[string]dsl.Pos{} // "block.key" -> first setting
	for _, s := range e.Stray {
		if f := schema.Child(s.Key); f != nil {
			c.errorf(s.Pos, "%s is a block: write %s { ... }", s.Key, s.Key)
		} else if b := blockOf(s.Key); b != "" {
			c.errorf(s.Pos, "%s belongs in the %s block: write %s { %s ... }", s.Key, b, b, s.Key)
		} else {
			c.errorf(s.Pos, "unknown setting %q: settings go inside a block: %s", s.Key, oneOf(blockNames))
		}
	}
	for _, b := range e.Blocks {
		bf := schema.Child(b.Name)
		if bf == nil {
			c.errorf(b.Pos, "unknown block %q: expected %s%s", b.Name, oneOf(blockNames), didYouMean(b.Name, blockNames))
			continue
		}
		for _, s := range b.Settings {
			key := b.Name + "." + s.Key
			if p, dup := firstPos[key]; dup {
				c.errorf(s.Pos, "%s is already set in this experiment at line %d", key, p.Line)
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
				st.set(f, t, false, es)
			}
			c.addAll(errs)
		}
	}
	// Vary axes.
	own := map[string]dsl.Pos{}
	for _, v := range e.Varies {
		if len(v.Axes) == 0 {
			c.errorf(v.Pos, "vary zip: list at least one axis, e.g. vary zip { model.position [rope, nope]; data.context [64, 128] }")
			continue
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
			continue
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
			continue
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
	es.state = st
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

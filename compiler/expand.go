package compiler

import (
	"path/filepath"
	"reflect"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/dsl"
)

// expand turns a resolved experiment into its runs: the product of its axes
// (first axis slowest), each cell repeated once per seed, each run checked.
func (c *compiler) expand(es *expState) *Experiment {
	st := es.state
	x := &Experiment{Name: es.ast.Name, File: es.file, Pos: configPos(es.ast.Pos)}
	cells := 1
	for _, a := range st.axes {
		x.Axes = append(x.Axes, a.paths...)
		cells *= a.size()
		if cells > MaxRuns {
			break
		}
	}
	nerr := len(c.errs)
	seeds := st.run.Interface().(config.Run).Train.Seeds
	if len(seeds) == 0 {
		c.errorf(c.originOf(st.origins, es, "train.seeds"), "train.seeds: list at least one seed")
		seeds = []int64{1} // keep checking the rest
	}
	seenSeed := map[int64]bool{}
	for _, s := range seeds {
		if seenSeed[s] {
			c.errorf(c.originOf(st.origins, es, "train.seeds"), "train.seeds: seed %d is listed twice", s)
			seeds = []int64{s}
			break
		}
		seenSeed[s] = true
	}
	if cells > MaxRuns || cells*len(seeds) > MaxRuns {
		c.errorf(es.ast.NamePos, "experiment %q expands into more than %d runs; split it into smaller experiments", es.ast.Name, MaxRuns)
		return nil
	}
	ids := map[string]int{}
	idx := make([]int, len(st.axes))
	for cell := 0; cell < cells; cell++ {
		// Decode cell into one index per axis, the last axis varying fastest.
		rem := cell
		for i := len(st.axes) - 1; i >= 0; i-- {
			n := st.axes[i].size()
			idx[i] = rem % n
			rem /= n
		}
		run := st.clone()
		var varied []config.Setting
		var lastVary dsl.Pos = es.ast.NamePos
		for i, a := range st.axes {
			if a.variants != nil {
				v := a.variants[idx[i]]
				for _, fv := range v.sets {
					run.set(fv.f, fv.t, true, a.owner)
				}
				varied = append(varied, config.Setting{Path: variantPath, Value: v.name})
				lastVary = v.pos
				continue
			}
			for j, f := range a.fields {
				t := a.tuples[idx[i]][j]
				run.set(f, t, true, a.owner)
				varied = append(varied, config.Setting{Path: a.paths[j], Value: t.canon})
				lastVary = t.pos
			}
		}
		r := run.run.Addr().Interface().(*config.Run)
		before := c.reported
		c.check(r, run.origins, es)
		if c.reported > before {
			continue // not a run: no further checks (e.g. for identical runs)
		}
		r.Experiment = es.ast.Name
		r.Varied = varied
		r.SourceDir = c.sourceDir(es.file)
		if r.Data.Corpus.Lags == 1 {
			r.Data.Corpus.Lags = 0 // one lag is the original task: one run id however it is written
		}
		if o, ok := run.origins["data.corpus.paths"]; ok && o.owner != nil && o.owner.file != es.file {
			r.Data.Corpus.Paths = rebase(r.Data.Corpus.Paths, c.sourceDir(o.owner.file), r.SourceDir)
		}
		if o, ok := run.origins["data.tokenizer.path"]; ok && o.owner != nil && o.owner.file != es.file {
			r.Data.Tokenizer.Path = rebase([]string{r.Data.Tokenizer.Path}, c.sourceDir(o.owner.file), r.SourceDir)[0]
		}
		if o, ok := run.origins["model.checkpoint"]; ok && o.owner != nil && o.owner.file != es.file {
			r.Model.Checkpoint = rebase([]string{r.Model.Checkpoint}, c.sourceDir(o.owner.file), r.SourceDir)[0]
		}
		for _, s := range seeds {
			rr := deepCopy(reflect.ValueOf(*r)).Interface().(config.Run)
			rr.Seed = s
			id := rr.ID()
			if prev, dup := ids[id]; dup {
				c.errorf(lastVary, "experiment %q has two identical runs (%s and %s give the same settings); remove one of them",
					es.ast.Name, describeVaried(x.Runs[prev].Varied), describeVaried(varied))
				return nil
			}
			ids[id] = len(x.Runs)
			rr.Index = len(x.Runs)
			x.Runs = append(x.Runs, rr)
		}
	}
	if len(c.errs) > nerr {
		return nil
	}
	return x
}

// rebase rewrites relative data paths written in a file in directory from
// (an inherited setting) to be relative to directory to, where the run's
// paths are resolved.
func rebase(paths []string, from, to string) []string {
	if from == to {
		return paths
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p
		if filepath.IsAbs(p) {
			continue
		}
		full := filepath.Join(from, filepath.FromSlash(p))
		if rel, err := filepath.Rel(to, full); err == nil {
			out[i] = filepath.ToSlash(rel)
		} else {
			out[i] = filepath.ToSlash(full)
		}
	}
	return out
}

func describeVaried(v []config.Setting) string {
	if len(v) == 0 {
		return "the base run"
	}
	s := ""
	for i, x := range v {
		if i > 0 {
			s += ", "
		}
		s += x.Path + " " + x.Value
	}
	return s
}

// originOf returns where the first of paths that was written explicitly got
// its value, preferring values from vary axes, then values written by the
// experiment itself (not inherited); else the experiment's name.
func (c *compiler) originOf(origins map[string]origin, es *expState, paths ...string) dsl.Pos {
	for _, p := range paths {
		if o, ok := origins[p]; ok && o.vary {
			return o.pos
		}
	}
	for _, p := range paths {
		if o, ok := origins[p]; ok && o.owner == es {
			return o.pos
		}
	}
	for _, p := range paths {
		if o, ok := origins[p]; ok {
			return o.pos
		}
	}
	return es.ast.NamePos
}

// check resolves the settings derived from others (model.vocab, a
// learnable position table's length) and reports the run's violations of
// config.Validate at the values that break them.
func (c *compiler) check(r *config.Run, origins map[string]origin, es *expState) {
	at := func(paths ...string) dsl.Pos { return c.originOf(origins, es, paths...) }
	m, d := &r.Model, &r.Data

	// Arguments set by path (vary model.attention.z) must apply to the final kind.
	for p := range origins {
		f := schema.Lookup(p)
		if f == nil || len(f.Kinds) == 0 || m.FromCheckpoint() && strings.HasPrefix(p, "model.") {
			continue // a model setting beside a checkpoint: resolveCheckpoint says it
		}
		parent := schema.Lookup(p[:len(p)-len(f.Key)-1])
		kind := parent.KindField().Value(reflect.ValueOf(*r)).String()
		if !f.AcceptsKind(kind) {
			c.errorf(at(p), "%s applies only when %s is %s, not %s", p, parent.Path, strings.Join(f.Kinds, " or "), kind)
		}
	}
	if _, ok := origins["data.corpus.vocab"]; !ok && d.Corpus.Kind == "tokens" {
		c.errorf(at("data.corpus"), "data.corpus: tokens needs the vocabulary of its token ids, e.g. tokens(paths: [\"train.bin\"], vocab: 50304)")
	}
	arch, fromCheckpoint := c.resolveCheckpoint(r, origins, es)
	tok, haveTok := c.resolveTokenizer(d, origins, es, at)
	c.resolveFirstToken(d, tok, haveTok, at)
	var said map[string]bool // by the checkpoint's checks
	if fromCheckpoint {
		said = c.checkCheckpointData(r, arch, tok, haveTok, origins, at)
	}
	if m.Vocab == 0 {
		// A fixed first token outside the data's vocabulary is a dedicated
		// BOS-like id: the model's vocabulary grows to hold it.
		m.Vocab = d.VocabSize()
	}
	if d.DocumentAttention.Within() && d.Separator.Kind == "eot" {
		// The graph masks attention at the separator: it needs the id.
		m.DocumentMask, m.DocumentToken = true, d.Separator.Token
	}
	if m.Position.Kind == "learnable" && m.Position.Length == 0 {
		m.Position.Length = d.Context + m.Position.Offset
		if m.Bias.Kind == "sink_token" {
			m.Position.Length++ // the sink token has a position too
		}
	}
	for _, v := range config.Validate(*r) {
		if said[v.Paths[0]] {
			continue
		}
		c.errorf(at(v.Paths...), "%s", v.Msg)
	}
}

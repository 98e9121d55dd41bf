package compiler

import (
	"fmt"
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
	x := &Experiment{Name: es.ast.Name, File: es.file, Pos: es.ast.Pos}
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
		c.check(r, run.origins, es)
		r.Experiment = es.ast.Name
		r.Varied = varied
		r.SourceDir = c.sourceDir(es.file)
		if o, ok := run.origins["data.corpus.paths"]; ok && o.owner != nil && o.owner.file != es.file {
			r.Data.Corpus.Paths = rebase(r.Data.Corpus.Paths, c.sourceDir(o.owner.file), r.SourceDir)
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

// check applies the cross-field rules to one run; it fills Model.Vocab.
func (c *compiler) check(r *config.Run, origins map[string]origin, es *expState) {
	at := func(paths ...string) dsl.Pos { return c.originOf(origins, es, paths...) }
	m, d, ms := &r.Model, &r.Data, &r.Measure

	// Arguments set by path (vary model.attention.z) must apply to the final kind.
	for p := range origins {
		f := schema.Lookup(p)
		if f == nil || len(f.Kinds) == 0 {
			continue
		}
		parent := schema.Lookup(p[:len(p)-len(f.Key)-1])
		kind := parent.KindField().Value(reflect.ValueOf(*r)).String()
		if !f.AcceptsKind(kind) {
			c.errorf(at(p), "%s applies only when %s is %s, not %s", p, parent.Path, strings.Join(f.Kinds, " or "), kind)
		}
	}

	if m.HeadDim == 0 && m.DModel%m.Heads != 0 {
		c.errorf(at("model.heads", "model.d_model"), "heads (%d) must divide d_model (%d), or set head_dim", m.Heads, m.DModel)
	} else if m.Position.Kind == "rope" && m.HeadDimOrDefault()%2 != 0 {
		how := fmt.Sprintf("head_dim is %d", m.HeadDim)
		if m.HeadDim == 0 {
			how = fmt.Sprintf("d_model / heads = %d", m.HeadDimOrDefault())
		}
		c.errorf(at("model.position", "model.head_dim", "model.heads", "model.d_model"), "rope needs an even head dimension, but %s", how)
	}

	dataVocab, vocabFrom := 256, "the bytes tokenizer's"
	switch d.Corpus.Kind {
	case "bigram_backcopy":
		dataVocab, vocabFrom = d.Corpus.Vocab, "data.corpus vocab"
		if d.Corpus.Triggers >= d.Corpus.Vocab {
			c.errorf(at("data.corpus.triggers", "data.corpus.vocab", "data.corpus"), "data.corpus: triggers (%d) must be fewer than vocab (%d)", d.Corpus.Triggers, d.Corpus.Vocab)
		}
		if d.Separator.Kind == "eot" {
			c.errorf(at("data.separator", "data.corpus"), "data.separator: bigram_backcopy generates one stream, without documents to separate")
		}
	case "tokens":
		dataVocab, vocabFrom = d.Corpus.Vocab, "data.corpus vocab"
		if _, ok := origins["data.corpus.vocab"]; !ok {
			c.errorf(at("data.corpus"), "data.corpus: tokens needs the vocabulary of its token ids, e.g. tokens(paths: [\"train.bin\"], vocab: 50304)")
		}
	}
	if m.Vocab == 0 {
		// A fixed first token outside the data's vocabulary is a dedicated
		// BOS-like id: the model's vocabulary grows to hold it.
		m.Vocab = d.VocabSize()
	} else if m.Vocab < dataVocab {
		c.errorf(at("model.vocab", "data.corpus", "data.tokenizer"), "model.vocab (%d) is smaller than %s vocabulary (%d)", m.Vocab, vocabFrom, dataVocab)
	}
	if d.FirstToken.Kind == "fixed" && d.FirstToken.Token >= m.Vocab {
		c.errorf(at("data.first_token.token", "data.first_token", "model.vocab"), "data.first_token: token %d is outside the vocabulary (0 to %d)", d.FirstToken.Token, m.Vocab-1)
	}
	if d.FixedToken.Kind == "fixed" && d.FixedToken.Token >= m.Vocab {
		c.errorf(at("data.fixed_token.token", "data.fixed_token", "model.vocab"), "data.fixed_token: token %d is outside the vocabulary (0 to %d)", d.FixedToken.Token, m.Vocab-1)
	}
	if d.Separator.Kind == "eot" && d.Separator.Token >= m.Vocab {
		c.errorf(at("data.separator.token", "data.separator", "model.vocab"), "data.separator: token %d is outside the vocabulary (0 to %d)", d.Separator.Token, m.Vocab-1)
	}
	if ms.Probe.Kind == "repeated" && ms.Probe.Token >= m.Vocab {
		c.errorf(at("measure.probe.token", "measure.probe", "model.vocab"), "measure.probe: token %d is outside the vocabulary (0 to %d)", ms.Probe.Token, m.Vocab-1)
	}
	if example, ok := map[string]string{"files": `files(paths: ["data/*.txt"])`, "jsonl": `jsonl(paths: ["data/*.jsonl"])`,
		"tokens": `tokens(paths: ["train.bin"], vocab: 50304)`}[d.Corpus.Kind]; ok && len(d.Corpus.Paths) == 0 {
		c.errorf(at("data.corpus.paths", "data.corpus"), "data.corpus: %s needs at least one path, e.g. %s", d.Corpus.Kind, example)
	}
	c.checkPositions(r, at)
	c.checkModel(r, at)
	if ms.ProbeLength > d.Context {
		c.errorf(at("measure.probe_length", "data.context"), "measure.probe_length (%d) must be at most data.context (%d); set probe_length too", ms.ProbeLength, d.Context)
	}
	for _, k := range ms.Sink {
		if k > ms.ProbeLength {
			c.errorf(at("measure.sink", "measure.probe_length", "data.context"), "measure.sink: position %d is beyond the probe length (%d)", k, ms.ProbeLength)
			break
		}
	}
}

// checkPositions checks the data settings that name positions of a
// sequence (1-based, as in Sink_k) against the context and one another.
func (c *compiler) checkPositions(r *config.Run, at func(paths ...string) dsl.Pos) {
	d := &r.Data
	ft, rt := d.FixedToken, d.RandomTokens
	if ft.Kind == "fixed" && ft.Position > d.Context {
		c.errorf(at("data.fixed_token.position", "data.fixed_token", "data.context"), "data.fixed_token: position %d is beyond data.context (%d)", ft.Position, d.Context)
	}
	if rt.Kind == "span" {
		switch {
		case rt.To <= rt.From:
			c.errorf(at("data.random_tokens.to", "data.random_tokens.from", "data.random_tokens"), "data.random_tokens: to (%d) must be greater than from (%d): the span is positions from to to-1", rt.To, rt.From)
		case rt.To > d.Context+1:
			c.errorf(at("data.random_tokens.to", "data.random_tokens", "data.context"), "data.random_tokens: the span reaches position %d, beyond data.context (%d)", rt.To-1, d.Context)
		case rt.From == 1 && d.FirstToken.Kind == "fixed":
			c.errorf(at("data.random_tokens.from", "data.random_tokens", "data.first_token"), "data.random_tokens: the span starts at position 1, which data.first_token fixes; start it at 2")
		case ft.Kind == "fixed" && ft.Position >= rt.From && ft.Position < rt.To:
			c.errorf(at("data.fixed_token.position", "data.fixed_token", "data.random_tokens"), "data.fixed_token: position %d lies inside data.random_tokens' span (positions %d to %d)", ft.Position, rt.From, rt.To-1)
		}
	}
	if u := d.UniqueTokens; u > 0 {
		need := d.Context + 1
		if d.FirstToken.Kind == "fixed" {
			need-- // the first token is not data
		}
		if u < need {
			c.errorf(at("data.unique_tokens", "data.context"), "data.unique_tokens (%d) must be 0 (all) or at least one training window of %d tokens (data.context %d)", u, need, d.Context)
		}
	}
}

package config

import (
	"fmt"
	"math"
	"reflect"
	"strings"
)

// Violation is a rule a run breaks: its message and the settings involved
// (dotted paths, the one to point at first), so the compiler can report it
// at the value that breaks it (file:line:col).
type Violation struct {
	Paths []string
	Msg   string
	// fromSchema marks a violation of one setting's struct tags (see supersede).
	fromSchema bool
}

// Violations is the result of a validation; Err joins them into one error.
type Violations []Violation

// Err is nil without violations, else an error listing every message.
func (vs Violations) Err() error {
	if len(vs) == 0 {
		return nil
	}
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Msg
	}
	return fmt.Errorf("invalid config: %s", strings.Join(msgs, "; "))
}

// Validate checks a resolved run (model.vocab and a learnable position
// table's length filled in): every setting against the schema (allowed
// kinds and values, ranges, list lengths; arguments only where they apply)
// and every rule between settings — the architecture catalogue's, the
// data's and the measurement's. It is the one check of a run: the compiler
// reports its violations at their positions, and the model builder and
// `sinkrun bench` call it (ValidateModel, its model and train part).
func Validate(r Run) Violations {
	vs := schemaViolations(r, "")
	vs = append(vs, modelRules(r.Model)...)
	vs = append(vs, dataRules(r)...)
	vs = append(vs, measureRules(r)...)
	vs = append(vs, trainRules(r)...)
	return supersede(vs)
}

// trainRules are the rules between training and the model.
func trainRules(r Run) Violations {
	if r.Train.Steps < 1 && !r.Model.FromCheckpoint() {
		return Violations{violation([]string{"train.steps"},
			"train.steps: 0 (measure only) needs a pretrained model, model { checkpoint \"DIR\" }; a model sinkrun initialises needs at least 1 step")}
	}
	if r.Train.Steps < 1 && r.Train.LayerDrop > 0 {
		return Violations{violation([]string{"train.layer_drop", "train.steps"},
			"train.layer_drop: applies to training steps, and train.steps is 0 (measure only)")}
	}
	return nil
}

// ValidateModel is Validate for the parts of a run the model builder sees:
// the model and train blocks, and the model's own rules.
func ValidateModel(m Model, t Train) Violations {
	r := Run{Model: m, Train: t}
	vs := append(schemaViolations(r, "model."), schemaViolations(r, "train.")...)
	vs = append(vs, modelRules(m)...)
	if m.Vocab < 1 {
		vs = append(vs, violation([]string{"model.vocab"}, "model.vocab: must be resolved to at least 1, got %d", m.Vocab))
	}
	return supersede(vs)
}

// supersede drops a schema violation of a setting that a rule's violation
// names too: the rule says more (window needs a size, not "size must be at
// least 1").
func supersede(vs Violations) Violations {
	named := map[string]bool{}
	for _, v := range vs {
		if !v.fromSchema {
			for _, p := range v.Paths {
				named[p] = true
			}
		}
	}
	out := vs[:0:0]
	for _, v := range vs {
		if v.fromSchema && named[v.Paths[0]] {
			continue
		}
		out = append(out, v)
	}
	return out
}

// schemaViolations checks every setting under prefix ("" for all) against
// its struct tags. A kind or enum value may be empty where its zero value
// means the default (omitempty/omitzero settings, IsZero types).
func schemaViolations(r Run, prefix string) Violations {
	var vs Violations
	v := reflect.ValueOf(r)
	bad := func(f Field, format string, args ...any) {
		path := f.Path
		vs = append(vs, Violation{Paths: []string{path}, Msg: path + ": " + fmt.Sprintf(format, args...), fromSchema: true})
	}
	eachLeaf(v, func(f Field, applies bool) {
		if !applies || !strings.HasPrefix(f.Path+".", prefix) {
			return
		}
		fv := f.Value(v)
		if f.Type.Kind() == reflect.Slice {
			if f.Len > 0 && fv.Len() != f.Len {
				bad(f, "expected a list of %d values, found %d", f.Len, fv.Len())
			}
			for i := 0; i < fv.Len(); i++ {
				if msg := scalarViolation(f, fv.Index(i)); msg != "" {
					bad(f, "%s", msg)
					break
				}
			}
			return
		}
		if fv.Kind() == reflect.String && fv.String() == "" && f.emptyMeansDefault() {
			return
		}
		if msg := scalarViolation(f, fv); msg != "" {
			bad(f, "%s", msg)
		}
	})
	return vs
}

func scalarViolation(f Field, v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		if len(f.Enum) > 0 && !contains(f.Enum, v.String()) {
			what := "value"
			if f.Kind {
				what = "kind"
			}
			return fmt.Sprintf("unknown %s %q: expected one of %s", what, v.String(), strings.Join(f.Enum, ", "))
		}
	case reflect.Int, reflect.Int64:
		if msg := f.BoundsError(float64(v.Int())); msg != "" {
			return fmt.Sprintf("%s, found %d", msg, v.Int())
		}
	case reflect.Float64:
		x := v.Float()
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprintf("must be a finite number, found %v", x)
		}
		if msg := f.BoundsError(x); msg != "" {
			return fmt.Sprintf("%s, found %s", msg, FormatBound(x))
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// modelRules are the architecture's rules: the catalogue entries' and the
// ones between families.
func modelRules(m Model) Violations {
	var vs Violations
	if m.Heads > 0 && m.HeadDim == 0 && m.DModel%m.Heads != 0 {
		vs = append(vs, violation([]string{"model.heads", "model.d_model"}, "heads (%d) must divide d_model (%d), or set head_dim", m.Heads, m.DModel))
	}
	if m.Heads < 1 || m.DModel < 1 || m.HeadDimOrDefault() < 1 {
		return vs // the schema reports these; the rules below divide by them
	}
	if k, ok := PositionKindNamed(m.Position.Kind); ok && k.Rules != nil {
		vs = append(vs, k.Rules(m)...)
	}
	if k, ok := BiasKindNamed(m.Bias.Kind); ok && k.Rules != nil {
		vs = append(vs, k.Rules(m)...)
	}
	if k, ok := MaskKindNamed(m.Mask.Kind); ok && k.Rules != nil {
		vs = append(vs, k.Rules(m)...)
	}
	if kv := m.KVHeads; kv > 0 && (kv > m.Heads || m.Heads%kv != 0) {
		vs = append(vs, violation([]string{"model.kv_heads", "model.heads"}, "model.kv_heads (%d) must divide heads (%d)", kv, m.Heads))
	}
	if m.Residual == "parallel" && m.Norm.Placement == "post" {
		vs = append(vs, violation([]string{"model.residual", "model.norm"}, "model.residual: parallel needs pre-norm placement (x + attn(norm1(x)) + ffn(norm2(x)))"))
	}
	op, ok := AttentionOpNamed(m.Attention.Op)
	if ok && op.Rules != nil {
		vs = append(vs, op.Rules(m)...)
	}
	if op.Slots > 0 && m.Bias.Slots() > 0 {
		vs = append(vs, violation([]string{"model.bias", "model.attention"},
			"model.bias: %s adds a slot before token 1, and so does attention %s; use one of them", m.Bias.Kind, op.Name))
	}
	return vs
}

// DataVocab is the vocabulary the corpus itself produces (before a fixed
// first token, fixed token or separator grows it) and where it comes from.
func (d Data) DataVocab() (vocab int, from string) {
	switch d.Corpus.Kind {
	case "bigram_backcopy", "tokens":
		return d.Corpus.Vocab, "data.corpus vocab"
	}
	if d.Tokenizer.Kind == "bpe" {
		return d.Tokenizer.Vocab, "the tokenizer's"
	}
	return 256, "the bytes tokenizer's"
}

// dataRules are the rules between the data settings and the model.
func dataRules(r Run) Violations {
	var vs Violations
	add := func(paths []string, format string, args ...any) { vs = append(vs, violation(paths, format, args...)) }
	m, d := r.Model, r.Data
	if dv, from := d.DataVocab(); m.Vocab > 0 && m.Vocab < dv {
		add([]string{"model.vocab", "data.corpus", "data.tokenizer"}, "model.vocab (%d) is smaller than %s vocabulary (%d)", m.Vocab, from, dv)
	}
	if d.Corpus.Kind == "bigram_backcopy" {
		if d.Corpus.Triggers >= d.Corpus.Vocab {
			add([]string{"data.corpus.triggers", "data.corpus.vocab", "data.corpus"}, "data.corpus: triggers (%d) must be fewer than vocab (%d)", d.Corpus.Triggers, d.Corpus.Vocab)
		}
		if d.Corpus.Lags > d.Corpus.Triggers {
			add([]string{"data.corpus.lags", "data.corpus.triggers", "data.corpus"}, "data.corpus: lags (%d) needs at least as many triggers (%d): each copy distance has its own trigger tokens", d.Corpus.Lags, d.Corpus.Triggers)
		}
		if d.Separator.Kind == "eot" {
			add([]string{"data.separator", "data.corpus"}, "data.separator: bigram_backcopy generates one stream, without documents to separate")
		}
	}
	outside := func(what, path string, token int) {
		add([]string{path + ".token", path, "model.vocab"}, "%s: token %d is outside the vocabulary (0 to %d)", what, token, m.Vocab-1)
	}
	if d.FirstToken.Kind == "fixed" && d.FirstToken.Token >= m.Vocab {
		outside("data.first_token", "data.first_token", d.FirstToken.Token)
	}
	if d.FixedToken.Kind == "fixed" && d.FixedToken.Token >= m.Vocab {
		outside("data.fixed_token", "data.fixed_token", d.FixedToken.Token)
	}
	if d.Separator.Kind == "eot" && d.Separator.Token >= m.Vocab {
		outside("data.separator", "data.separator", d.Separator.Token)
	}
	if r.Measure.Probe.Kind == "repeated" && r.Measure.Probe.Token >= m.Vocab {
		outside("measure.probe", "measure.probe", r.Measure.Probe.Token)
	}
	if example, ok := map[string]string{"files": `files(paths: ["data/*.txt"])`, "jsonl": `jsonl(paths: ["data/*.jsonl"])`,
		"tokens": `tokens(paths: ["train.bin"], vocab: 50304)`}[d.Corpus.Kind]; ok && len(d.Corpus.Paths) == 0 {
		add([]string{"data.corpus.paths", "data.corpus"}, "data.corpus: %s needs at least one path, e.g. %s", d.Corpus.Kind, example)
	}
	ft, rt := d.FixedToken, d.RandomTokens
	if ft.Kind == "fixed" && ft.Position > d.Context {
		add([]string{"data.fixed_token.position", "data.fixed_token", "data.context"}, "data.fixed_token: position %d is beyond data.context (%d)", ft.Position, d.Context)
	}
	if rt.Kind == "span" {
		switch {
		case rt.To <= rt.From:
			add([]string{"data.random_tokens.to", "data.random_tokens.from", "data.random_tokens"}, "data.random_tokens: to (%d) must be greater than from (%d): the span is positions from to to-1", rt.To, rt.From)
		case rt.To > d.Context+1:
			add([]string{"data.random_tokens.to", "data.random_tokens", "data.context"}, "data.random_tokens: the span reaches position %d, beyond data.context (%d)", rt.To-1, d.Context)
		case rt.From == 1 && d.FirstToken.Places():
			add([]string{"data.random_tokens.from", "data.random_tokens", "data.first_token"}, "data.random_tokens: the span starts at position 1, which data.first_token fixes; start it at 2")
		case ft.Kind == "fixed" && ft.Position >= rt.From && ft.Position < rt.To:
			add([]string{"data.fixed_token.position", "data.fixed_token", "data.random_tokens"}, "data.fixed_token: position %d lies inside data.random_tokens' span (positions %d to %d)", ft.Position, rt.From, rt.To-1)
		}
	}
	if d.DocumentAttention.Within() && d.Separator.Kind != "eot" {
		add([]string{"data.document_attention", "data.separator"}, "data.document_attention: within needs separator eot(token: N), the token that starts each document; the separator is %s", d.Separator.Kind)
	} else if m.DocumentMask != d.DocumentAttention.Within() || m.DocumentMask && m.DocumentToken != d.Separator.Token {
		add([]string{"data.document_attention", "data.separator"}, "data.document_attention: the model's document mask (%v, token %d) does not match the data's (%s, separator token %d)", m.DocumentMask, m.DocumentToken, d.DocumentAttention, d.Separator.Token)
	}
	if u := d.UniqueTokens; u > 0 {
		need := d.Context + 1
		if d.FirstToken.Places() {
			need-- // the first token is not data
		}
		if u < need {
			add([]string{"data.unique_tokens", "data.context"}, "data.unique_tokens (%d) must be 0 (all) or at least one training window of %d tokens (data.context %d)", u, need, d.Context)
		}
	}
	// The model's sequence-length rules.
	if m.Position.Kind == "learnable" {
		need, why := d.Context+m.Position.Offset, ""
		if m.Position.Offset > 0 {
			why = fmt.Sprintf(" + offset %d", m.Position.Offset)
		}
		if m.Bias.Kind == "sink_token" {
			need, why = need+1, why+" + 1 for the sink token"
		}
		if m.Position.Length > 0 && m.Position.Length < need {
			add([]string{"model.position.length", "model.position", "data.context", "model.bias"},
				"model.position: learnable length %d is shorter than the sequences (data.context %d%s)", m.Position.Length, d.Context, why)
		}
	}
	if mk := m.Mask; mk.Size > d.Context {
		if k, _ := MaskKindNamed(mk.Kind); contains(k.Args, "size") {
			add([]string{"model.mask.size", "model.mask", "data.context"}, "model.mask: size %d is more than data.context (%d)", mk.Size, d.Context)
		}
	}
	return vs
}

// measureRules are the rules between the measurement and the data.
func measureRules(r Run) Violations {
	var vs Violations
	ms, d := r.Measure, r.Data
	if ms.ProbeLength > d.Context {
		vs = append(vs, violation([]string{"measure.probe_length", "data.context"}, "measure.probe_length (%d) must be at most data.context (%d); set probe_length too", ms.ProbeLength, d.Context))
	}
	for _, k := range ms.Sink {
		if k > ms.ProbeLength {
			vs = append(vs, violation([]string{"measure.sink", "measure.probe_length", "data.context"}, "measure.sink: position %d is beyond the probe length (%d)", k, ms.ProbeLength))
			break
		}
	}
	return vs
}

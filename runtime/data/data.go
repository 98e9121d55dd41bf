// Package data prepares the token streams of a run: training windows,
// held-out validation batches and probe sequences (docs/metrics.md#probe).
//
// A corpus (the Go source tree, text or JSONL files, pre-tokenized uint16
// files, or a synthetic generator) becomes one token stream: its documents
// (files, JSONL records) joined by a separator (data.separator). The last
// cfg.Holdout fraction of the stream is the held-out split; the rest is the
// training split, of which data.unique_tokens keeps only the first N tokens
// when set. Training rows are random windows of the training split drawn
// with the caller's rng; validation batches and probe sequences are fixed,
// evenly spaced windows of the held-out split (validation from its first
// half, probes from its second half, so the two never overlap when the
// split is large enough).
//
// Positions below are 1-based, as in Sink_k. Every row is then transformed,
// in this order:
//
//   - first_token fixed(token: X): the row is [X, w0, w1, ...], X followed
//     by a window of data one token shorter than the row. Otherwise rows are
//     plain windows; no BOS token is added (docs/metrics.md#probe).
//   - random_tokens span(from: a, to: b): positions a .. b-1 get tokens
//     drawn uniformly from the corpus vocabulary (not the dedicated ids), in
//     training and validation rows and natural probes; training rows draw
//     them from the caller's rng, held-out rows from fixed seeds.
//   - fixed_token fixed(position: p, token: Y): position p holds Y,
//     replacing the data there, in every row (training, validation, every
//     probe kind).
//
// Probes (ProbeFor) are natural (held-out windows, as above), random
// (tokens drawn uniformly from the corpus vocabulary) or repeated (one token
// over the whole sequence); the first and fixed tokens apply to all three,
// random spans only to natural probes.
package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sinkrun/sinkrun/config"
)

// Dataset holds the train and held-out token streams of one data config.
// It is read-only after Load and safe for concurrent use (TrainBatch draws
// only from the rng it is given).
type Dataset struct {
	// Vocab is the number of token ids: the corpus vocabulary, grown to
	// include a fixed first token, fixed token or end-of-text separator that
	// lies outside it. See VocabSize.
	Vocab int

	corpus   *corpus
	base     int   // the corpus vocabulary: random tokens are drawn from [0, base)
	first    int32 // the fixed first token, or -1
	fixedAt  int   // 0-based index of the fixed token in a row, or -1
	fixedTok int32
	// randLo, randHi are the 0-based indices [lo, hi) of the random span in
	// a row; lo == hi: none.
	randLo, randHi int
	unique         int // the unique-token budget, 0: none
	train, held    stream
	holdout        float64
}

// Load prepares the token streams for a run's data config. baseDir resolves
// relative file paths and globs of a files, jsonl or tokens corpus. Each
// call reads the corpus again; use a Cache to share corpora between the
// runs of a process.
func Load(cfg config.Data, baseDir string) (*Dataset, error) {
	c, err := loadCorpus(cfg, baseDir)
	if err != nil {
		return nil, err
	}
	return newDataset(cfg, c)
}

// corpusVocab is the vocabulary of the corpus alone: 256 for the bytes
// tokenizer, a bpe tokenizer's own, corpus.vocab for tokens and
// bigram_backcopy.
func corpusVocab(cfg config.Data) (int, error) {
	switch cfg.Corpus.Kind {
	case "builtin", "files", "jsonl":
		switch cfg.Tokenizer.Kind {
		case "", "bytes":
			return 256, nil
		case "bpe":
			if cfg.Tokenizer.Vocab < 1 {
				return 0, fmt.Errorf("data: tokenizer bpe(path: %q): its vocabulary is unknown (the compiler reads it from the tokenizer's files)", cfg.Tokenizer.Path)
			}
			return cfg.Tokenizer.Vocab, nil
		}
		return 0, fmt.Errorf("data: tokenizer %q is not supported (bytes or bpe)", cfg.Tokenizer.Kind)
	case "tokens":
		if cfg.Corpus.Vocab < 1 || cfg.Corpus.Vocab > 1<<16 {
			return 0, fmt.Errorf("data: tokens corpus: vocab %d must lie in 1..65536 (uint16 token ids)", cfg.Corpus.Vocab)
		}
		return cfg.Corpus.Vocab, nil
	case "bigram_backcopy":
		return cfg.Corpus.Vocab, nil
	}
	return 0, fmt.Errorf("data: unknown corpus kind %q", cfg.Corpus.Kind)
}

// VocabSize is the vocabulary a data config yields, computed without reading
// any data: 256 for the bytes tokenizer, a bpe tokenizer's own (which the
// compiler read into the config), corpus.vocab for tokens and
// bigram_backcopy, grown to id+1 when first_token, fixed_token or an eot
// separator uses an id outside that range (a dedicated id). It equals
// Dataset.Vocab after Load, and config.Data.VocabSize for valid configs.
func VocabSize(cfg config.Data) (int, error) {
	v, err := corpusVocab(cfg)
	if err != nil {
		return 0, err
	}
	switch cfg.FirstToken.Kind {
	case "", "none":
	case "fixed", "bos": // bos: the tokenizer's BOS id, which the compiler filled in
		if cfg.FirstToken.Token < 0 {
			return 0, fmt.Errorf("data: first_token fixed(token: %d) is negative", cfg.FirstToken.Token)
		}
		v = max(v, cfg.FirstToken.Token+1)
	default:
		return 0, fmt.Errorf("data: unknown first_token kind %q", cfg.FirstToken.Kind)
	}
	switch cfg.FixedToken.Kind {
	case "", "none":
	case "fixed":
		if cfg.FixedToken.Token < 0 {
			return 0, fmt.Errorf("data: fixed_token fixed(token: %d) is negative", cfg.FixedToken.Token)
		}
		v = max(v, cfg.FixedToken.Token+1)
	default:
		return 0, fmt.Errorf("data: unknown fixed_token kind %q", cfg.FixedToken.Kind)
	}
	switch cfg.Separator.Kind {
	case "", "newline", "none":
	case "eot":
		if cfg.Corpus.Kind == "bigram_backcopy" {
			return 0, fmt.Errorf("data: separator eot does not apply to bigram_backcopy (one generated stream, no documents)")
		}
		if t := cfg.Separator.Token; t < 0 || t > 65535 {
			return 0, fmt.Errorf("data: separator eot(token: %d) must lie in 0..65535", t)
		}
		v = max(v, cfg.Separator.Token+1)
	default:
		return 0, fmt.Errorf("data: unknown separator kind %q", cfg.Separator.Kind)
	}
	return v, nil
}

func newDataset(cfg config.Data, c *corpus) (*Dataset, error) {
	vocab, err := VocabSize(cfg)
	if err != nil {
		return nil, err
	}
	base, _ := corpusVocab(cfg) // checked by VocabSize
	d := &Dataset{Vocab: vocab, corpus: c, base: base, first: -1, fixedAt: -1, holdout: cfg.Holdout}
	if cfg.FirstToken.Places() {
		d.first = int32(cfg.FirstToken.Token)
	}
	if !(cfg.Holdout > 0 && cfg.Holdout < 1) {
		return nil, fmt.Errorf("data: holdout %g must lie in (0, 1)", cfg.Holdout)
	}
	if cfg.Context < 1 {
		return nil, fmt.Errorf("data: context %d must be positive", cfg.Context)
	}
	if ft := cfg.FixedToken; ft.Kind == "fixed" {
		if ft.Position < 2 || ft.Position > cfg.Context {
			return nil, fmt.Errorf("data: fixed_token position %d must lie in 2..%d (position 1 is first_token's; at most the context)", ft.Position, cfg.Context)
		}
		d.fixedAt, d.fixedTok = ft.Position-1, int32(ft.Token)
	}
	switch rt := cfg.RandomTokens; rt.Kind {
	case "", "none":
	case "span":
		switch {
		case rt.From < 1 || rt.To <= rt.From || rt.To > cfg.Context+1:
			return nil, fmt.Errorf("data: random_tokens span(from: %d, to: %d) must satisfy 1 <= from < to <= context + 1 = %d", rt.From, rt.To, cfg.Context+1)
		case rt.From == 1 && d.first >= 0:
			return nil, fmt.Errorf("data: random_tokens span(from: 1, ...) overlaps the fixed first token at position 1")
		case d.fixedAt >= 0 && cfg.FixedToken.Position >= rt.From && cfg.FixedToken.Position < rt.To:
			return nil, fmt.Errorf("data: random_tokens span(from: %d, to: %d) overlaps the fixed token at position %d", rt.From, rt.To, cfg.FixedToken.Position)
		}
		d.randLo, d.randHi = rt.From-1, rt.To-1
	default:
		return nil, fmt.Errorf("data: unknown random_tokens kind %q", rt.Kind)
	}
	n := c.tokens.len()
	nHeld := int(math.Round(float64(n) * cfg.Holdout))
	need := d.window(cfg.Context + 1)
	if nHeld < need || n-nHeld < need {
		return nil, fmt.Errorf("data: %s has %d tokens: train %d and held-out %d (holdout %g) must each hold one window of %d tokens (context %d)",
			c.name, n, n-nHeld, nHeld, cfg.Holdout, need, cfg.Context)
	}
	d.train = c.tokens.slice(0, n-nHeld)
	d.held = c.tokens.slice(n-nHeld, n)
	if u := cfg.UniqueTokens; u != 0 {
		switch {
		case u < need:
			return nil, fmt.Errorf("data: unique_tokens %d is less than one training window of %d tokens (context %d)", u, need, cfg.Context)
		case u > d.train.len():
			return nil, fmt.Errorf("data: unique_tokens %d exceeds the %d tokens of the training split of %s; use 0 for all of it", u, d.train.len(), c.name)
		}
		d.unique = u
		d.train = d.train.slice(0, u)
	}
	return d, nil
}

// window is the number of data tokens in a row of rowLen tokens.
func (d *Dataset) window(rowLen int) int {
	if d.first >= 0 {
		return rowLen - 1
	}
	return rowLen
}

// Seeds of the held-out rows' random tokens: validation batches and
// probes are the same for every run of a data config.
const (
	heldSeed       = 0x5eedda7a_4e1d0a17
	valStream      = 1
	naturalStream  = 2
	randomStream   = 3
	repeatedStream = 4
)

func heldRNG(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(heldSeed, stream)) }

// fillRow writes one row into dst from s starting at start, then applies
// the random span (drawing from rng) and the fixed tokens.
func (d *Dataset) fillRow(dst []int32, s stream, start int, rng *rand.Rand) {
	if d.first >= 0 {
		s.copyTo(dst[1:], start)
	} else {
		s.copyTo(dst, start)
	}
	d.randomize(dst, rng)
	d.mark(dst)
}

// randomize replaces the random span of row (as far as the row reaches)
// with tokens drawn uniformly from the corpus vocabulary. It draws nothing
// when there is no span.
func (d *Dataset) randomize(row []int32, rng *rand.Rand) {
	for i := d.randLo; i < min(d.randHi, len(row)); i++ {
		row[i] = int32(rng.IntN(d.base))
	}
}

// mark places the fixed first token and the fixed token (if the row
// reaches its position).
func (d *Dataset) mark(row []int32) {
	if d.first >= 0 {
		row[0] = d.first
	}
	if d.fixedAt >= 0 && d.fixedAt < len(row) {
		row[d.fixedAt] = d.fixedTok
	}
}

// TrainBatch returns batch rows of T+1 tokens, row-major, each a random
// window of the training split (within the unique-token budget), then
// transformed (see the package doc). It draws only from rng: the same rng
// state gives the same batch.
func (d *Dataset) TrainBatch(rng *rand.Rand, batch, T int) []int32 {
	row := T + 1
	w := d.window(row)
	n := d.train.len()
	if w > n {
		panic(fmt.Sprintf("data: TrainBatch: rows of %d tokens need %d data tokens, the training split has %d", row, w, n))
	}
	out := make([]int32, batch*row)
	for r := range batch {
		d.fillRow(out[r*row:(r+1)*row], d.train, rng.IntN(n-w+1), rng)
	}
	return out
}

// ValBatches returns n held-out batches of batch rows of T+1 tokens. The
// windows are evenly spaced over the first half of the held-out split (over
// all of it if the half is shorter than one window); the result depends only
// on the arguments.
func (d *Dataset) ValBatches(n, batch, T int) [][]int32 {
	row := T + 1
	lo, hi := d.region(row, false)
	starts := spaced(n*batch, lo, hi, d.window(row))
	rng := heldRNG(valStream)
	out := make([][]int32, n)
	for b := range n {
		out[b] = make([]int32, batch*row)
		for r := range batch {
			d.fillRow(out[b][r*row:(r+1)*row], d.held, starts[b*batch+r], rng)
		}
	}
	return out
}

// Probe returns n natural probe sequences of T tokens, flat (n*T): held-out
// windows, transformed like training rows (random span included). The
// windows are evenly spaced over the second half of the held-out split (all
// of it if the half is shorter than one window), so they do not overlap the
// validation windows when the split allows.
func (d *Dataset) Probe(n, T int) []int32 {
	lo, hi := d.region(T, true)
	starts := spaced(n, lo, hi, d.window(T))
	rng := heldRNG(naturalStream)
	out := make([]int32, n*T)
	for i, s := range starts {
		d.fillRow(out[i*T:(i+1)*T], d.held, s, rng)
	}
	return out
}

// ProbeFor returns the probe set a run's measure settings ask for:
// m.ProbeSequences sequences of m.ProbeLength tokens, flat, of kind
// m.Probe.Kind:
//
//   - natural: Probe (held-out windows; random span, first and fixed token
//     applied);
//   - random: every token drawn uniformly from the corpus vocabulary, then
//     the first and fixed tokens placed;
//   - repeated: one token over the whole sequence (m.Probe.Token, or, for
//     -1, a token drawn uniformly from the corpus vocabulary for each
//     sequence), then the first and fixed tokens placed.
//
// The result depends only on the data config and m.
func (d *Dataset) ProbeFor(m config.Measure) ([]int32, error) {
	n, T := m.ProbeSequences, m.ProbeLength
	if n < 1 || T < 1 {
		return nil, fmt.Errorf("data: probe of %d sequences of %d tokens: both must be positive", n, T)
	}
	switch m.Probe.Kind {
	case "", "natural":
		if w := d.window(T); w > d.held.len() {
			return nil, fmt.Errorf("data: probes of %d tokens need %d data tokens, the held-out split has %d", T, w, d.held.len())
		}
		return d.Probe(n, T), nil
	case "random":
		rng := heldRNG(randomStream)
		out := make([]int32, n*T)
		for i := range out {
			out[i] = int32(rng.IntN(d.base))
		}
		for i := range n {
			d.mark(out[i*T : (i+1)*T])
		}
		return out, nil
	case "repeated":
		tok := m.Probe.Token
		if tok < -1 || tok >= d.Vocab {
			return nil, fmt.Errorf("data: probe repeated(token: %d) is outside the vocabulary (0 to %d, or -1 for a random token per sequence)", tok, d.Vocab-1)
		}
		rng := heldRNG(repeatedStream)
		out := make([]int32, n*T)
		for i := range n {
			t := tok
			if t < 0 {
				t = rng.IntN(d.base)
			}
			row := out[i*T : (i+1)*T]
			for j := range row {
				row[j] = int32(t)
			}
			d.mark(row)
		}
		return out, nil
	}
	return nil, fmt.Errorf("data: unknown probe kind %q", m.Probe.Kind)
}

// region returns the part of the held-out split used for validation
// (second=false) or probes (second=true).
func (d *Dataset) region(rowLen int, second bool) (lo, hi int) {
	n := d.held.len()
	w := d.window(rowLen)
	if w > n {
		panic(fmt.Sprintf("data: rows of %d tokens need %d data tokens, the held-out split has %d", rowLen, w, n))
	}
	half := n / 2
	if w > half || w > n-half {
		return 0, n
	}
	if second {
		return half, n
	}
	return 0, half
}

// spaced returns m window starts evenly spaced in [lo, hi-w]. The windows
// do not overlap when m*w <= hi-lo.
func spaced(m, lo, hi, w int) []int {
	starts := make([]int, m)
	span := int64(hi - lo - w)
	for i := range m {
		if m > 1 {
			starts[i] = lo + int(int64(i)*span/int64(m-1))
		} else {
			starts[i] = lo
		}
	}
	return starts
}

// TrainTokens is the number of tokens in the training split, after the
// unique-token budget (the unique tokens the run trains on).
func (d *Dataset) TrainTokens() int64 { return int64(d.train.len()) }

// HeldOutTokens is the number of tokens in the held-out split.
func (d *Dataset) HeldOutTokens() int64 { return int64(d.held.len()) }

// Fingerprint identifies the corpus content: "sha256:" and the first 16 hex
// digits of the SHA-256 of the whole token stream (bytes, or little-endian
// uint16 for vocabularies above 256).
func (d *Dataset) Fingerprint() string { return d.corpus.fingerprint }

// Describe is one line naming the source, the sizes of both splits, the
// row transforms, the vocabulary and the fingerprint.
func (d *Dataset) Describe() string {
	unit := func(s stream) string {
		if d.corpus.text && s.w == nil { // one byte per token
			return fmt.Sprintf("%s = %d tokens", humanBytes(s.len()), s.len())
		}
		return fmt.Sprintf("%d tokens", s.len())
	}
	train := unit(d.train)
	if d.unique > 0 {
		train += " (unique-token budget)"
	}
	first := "none"
	if d.first >= 0 {
		first = fmt.Sprintf("fixed(%d)", d.first)
	}
	extra := ""
	if d.fixedAt >= 0 {
		extra += fmt.Sprintf("; token %d at position %d", d.fixedTok, d.fixedAt+1)
	}
	if d.randHi > d.randLo {
		extra += fmt.Sprintf("; random tokens at positions %d..%d", d.randLo+1, d.randHi)
	}
	return fmt.Sprintf("%s; train %s; held-out %s (%g); first token %s%s; vocab %d; %s",
		d.corpus.desc, train, unit(d.held), d.holdout, first, extra, d.Vocab, d.corpus.fingerprint)
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// stream is a token stream: one byte per token when the vocabulary fits in a
// byte (b), else uint16 (w); int32 (d) for text a bpe tokenizer tokenized.
// Exactly one of b, w and d is used.
type stream struct {
	b []byte
	w []uint16
	d []int32 // text tokenized by a bpe tokenizer (vocabularies above 65536 too)
}

func (s stream) len() int {
	switch {
	case s.d != nil:
		return len(s.d)
	case s.w != nil:
		return len(s.w)
	}
	return len(s.b)
}

func (s stream) slice(i, j int) stream {
	switch {
	case s.d != nil:
		return stream{d: s.d[i:j]}
	case s.w != nil:
		return stream{w: s.w[i:j]}
	}
	return stream{b: s.b[i:j]}
}

// copyTo copies len(dst) tokens starting at start.
func (s stream) copyTo(dst []int32, start int) {
	if s.d != nil {
		copy(dst, s.d[start:start+len(dst)])
		return
	}
	if s.w != nil {
		for i, t := range s.w[start : start+len(dst)] {
			dst[i] = int32(t)
		}
		return
	}
	for i, t := range s.b[start : start+len(dst)] {
		dst[i] = int32(t)
	}
}

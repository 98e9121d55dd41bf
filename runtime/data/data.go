// Package data prepares the token streams of a run: training windows,
// held-out validation batches and probe sequences (SPEC §1, §2 "data").
//
// A corpus (the Go source tree, text files, or a synthetic generator) becomes
// one token stream. The last cfg.Holdout fraction of the stream is the
// held-out split; the rest is the training split. Training rows are random
// windows of the training split drawn with the caller's rng; validation
// batches and probe sequences are fixed, evenly spaced windows of the
// held-out split (validation from its first half, probes from its second
// half, so the two never overlap when the split is large enough).
//
// With first_token fixed(token: X) every row is [X, w0, w1, ...]: X followed
// by a window of real data one token shorter than the row. Otherwise rows are
// plain windows; no BOS token is added (SPEC §1 default).
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
	// include the fixed first token if that lies outside it. See VocabSize.
	Vocab int

	corpus      *corpus
	first       int32 // the fixed first token, or -1
	train, held stream
	holdout     float64
}

// Load prepares the token streams for a run's data config. baseDir resolves
// relative file paths and globs of a files corpus. Each call reads the corpus
// again; use a Cache to share corpora between the runs of a process.
func Load(cfg config.Data, baseDir string) (*Dataset, error) {
	c, err := loadCorpus(cfg, baseDir)
	if err != nil {
		return nil, err
	}
	return newDataset(cfg, c)
}

// VocabSize is the vocabulary a data config yields, computed without reading
// any data: 256 for the bytes tokenizer, corpus.vocab for bigram_backcopy,
// grown to token+1 when first_token is fixed to a token outside that range
// (a dedicated BOS-like id). It equals Dataset.Vocab after Load.
func VocabSize(cfg config.Data) (int, error) {
	var v int
	switch cfg.Corpus.Kind {
	case "builtin", "files":
		if cfg.Tokenizer != "bytes" && cfg.Tokenizer != "" {
			return 0, fmt.Errorf("data: tokenizer %q is not supported (only bytes)", cfg.Tokenizer)
		}
		v = 256
	case "bigram_backcopy":
		v = cfg.Corpus.Vocab
	default:
		return 0, fmt.Errorf("data: unknown corpus kind %q", cfg.Corpus.Kind)
	}
	switch cfg.FirstToken.Kind {
	case "", "none":
	case "fixed":
		if cfg.FirstToken.Token < 0 {
			return 0, fmt.Errorf("data: first_token fixed(token: %d) is negative", cfg.FirstToken.Token)
		}
		v = max(v, cfg.FirstToken.Token+1)
	default:
		return 0, fmt.Errorf("data: unknown first_token kind %q", cfg.FirstToken.Kind)
	}
	return v, nil
}

func newDataset(cfg config.Data, c *corpus) (*Dataset, error) {
	vocab, err := VocabSize(cfg)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Vocab: vocab, corpus: c, first: -1, holdout: cfg.Holdout}
	if cfg.FirstToken.Kind == "fixed" {
		d.first = int32(cfg.FirstToken.Token)
	}
	if !(cfg.Holdout > 0 && cfg.Holdout < 1) {
		return nil, fmt.Errorf("data: holdout %g must lie in (0, 1)", cfg.Holdout)
	}
	if cfg.Context < 1 {
		return nil, fmt.Errorf("data: context %d must be positive", cfg.Context)
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
	return d, nil
}

// window is the number of data tokens in a row of rowLen tokens.
func (d *Dataset) window(rowLen int) int {
	if d.first >= 0 {
		return rowLen - 1
	}
	return rowLen
}

// fillRow writes one row into dst from s starting at start.
func (d *Dataset) fillRow(dst []int32, s stream, start int) {
	if d.first >= 0 {
		dst[0] = d.first
		dst = dst[1:]
	}
	s.copyTo(dst, start)
}

// TrainBatch returns batch rows of T+1 tokens, row-major, each a random
// window of the training split (after the fixed first token, if any). It
// draws only from rng: the same rng state gives the same batch.
func (d *Dataset) TrainBatch(rng *rand.Rand, batch, T int) []int32 {
	row := T + 1
	w := d.window(row)
	n := d.train.len()
	if w > n {
		panic(fmt.Sprintf("data: TrainBatch: rows of %d tokens need %d data tokens, the training split has %d", row, w, n))
	}
	out := make([]int32, batch*row)
	for r := range batch {
		d.fillRow(out[r*row:(r+1)*row], d.train, rng.IntN(n-w+1))
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
	out := make([][]int32, n)
	for b := range n {
		out[b] = make([]int32, batch*row)
		for r := range batch {
			d.fillRow(out[b][r*row:(r+1)*row], d.held, starts[b*batch+r])
		}
	}
	return out
}

// Probe returns n held-out sequences of T tokens, flat (n*T). The windows
// are evenly spaced over the second half of the held-out split (all of it if
// the half is shorter than one window), so they do not overlap the
// validation windows when the split allows.
func (d *Dataset) Probe(n, T int) []int32 {
	lo, hi := d.region(T, true)
	starts := spaced(n, lo, hi, d.window(T))
	out := make([]int32, n*T)
	for i, s := range starts {
		d.fillRow(out[i*T:(i+1)*T], d.held, s)
	}
	return out
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

// TrainTokens is the number of tokens in the training split (the unique-token
// budget of the run).
func (d *Dataset) TrainTokens() int64 { return int64(d.train.len()) }

// HeldOutTokens is the number of tokens in the held-out split.
func (d *Dataset) HeldOutTokens() int64 { return int64(d.held.len()) }

// Fingerprint identifies the corpus content: "sha256:" and the first 16 hex
// digits of the SHA-256 of the whole token stream (bytes, or little-endian
// uint16 for vocabularies above 256).
func (d *Dataset) Fingerprint() string { return d.corpus.fingerprint }

// Describe is one line naming the source, the sizes of both splits, the
// first-token setting, the vocabulary and the fingerprint.
func (d *Dataset) Describe() string {
	unit := func(s stream) string {
		if d.corpus.text { // one byte per token
			return fmt.Sprintf("%s = %d tokens", humanBytes(s.len()), s.len())
		}
		return fmt.Sprintf("%d tokens", s.len())
	}
	first := "none"
	if d.first >= 0 {
		first = fmt.Sprintf("fixed(%d)", d.first)
	}
	return fmt.Sprintf("%s; train %s; held-out %s (%g); first token %s; vocab %d; %s",
		d.corpus.desc, unit(d.train), unit(d.held), d.holdout, first, d.Vocab, d.corpus.fingerprint)
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
// byte (b), else uint16 (w). Exactly one of b and w is used.
type stream struct {
	b []byte
	w []uint16
}

func (s stream) len() int {
	if s.w != nil {
		return len(s.w)
	}
	return len(s.b)
}

func (s stream) slice(i, j int) stream {
	if s.w != nil {
		return stream{w: s.w[i:j]}
	}
	return stream{b: s.b[i:j]}
}

// copyTo copies len(dst) tokens starting at start.
func (s stream) copyTo(dst []int32, start int) {
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

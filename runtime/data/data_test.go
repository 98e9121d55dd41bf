package data

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

// counting is a dataset over the stream 0, 1, ..., n-1 (uint16), so every
// token tells where it came from.
func counting(t *testing.T, n int, holdout float64, first string, token int) *Dataset {
	t.Helper()
	w := make([]uint16, n)
	for i := range w {
		w[i] = uint16(i)
	}
	cfg := config.Default().Data
	cfg.Corpus.Kind = "bigram_backcopy"
	cfg.Corpus.Vocab = 1 << 16
	cfg.Holdout = holdout
	cfg.Context = 16
	cfg.FirstToken = config.FirstToken{Kind: first, Token: token}
	d, err := newDataset(cfg, &corpus{name: "counting", desc: "counting", tokens: stream{w: w}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkRows checks that each row of rowLen tokens is [first?] followed by
// consecutive tokens within [lo, hi), and returns the rows' data starts.
func checkRows(t *testing.T, what string, toks []int32, rowLen int, first int32, lo, hi int) []int {
	t.Helper()
	if len(toks)%rowLen != 0 {
		t.Fatalf("%s: %d tokens is not a multiple of rows of %d", what, len(toks), rowLen)
	}
	var starts []int
	for r := 0; r < len(toks); r += rowLen {
		row := toks[r : r+rowLen]
		if first >= 0 {
			if row[0] != first {
				t.Fatalf("%s: row %v does not start with the fixed token %d", what, row, first)
			}
			row = row[1:]
		}
		for i, v := range row {
			if int(v) != int(row[0])+i || int(v) < lo || int(v) >= hi {
				t.Fatalf("%s: row %v is not a window of [%d, %d)", what, row, lo, hi)
			}
		}
		starts = append(starts, int(row[0]))
	}
	return starts
}

func TestSplits(t *testing.T) {
	for _, first := range []int32{-1, 7} {
		kind := "none"
		if first >= 0 {
			kind = "fixed"
		}
		d := counting(t, 10000, 0.05, kind, int(first))
		if d.TrainTokens() != 9500 || d.HeldOutTokens() != 500 {
			t.Fatalf("splits %d / %d, want 9500 / 500", d.TrainTokens(), d.HeldOutTokens())
		}
		const T = 16
		rng := rand.New(rand.NewPCG(1, 2))
		for range 20 {
			checkRows(t, "train", d.TrainBatch(rng, 8, T), T+1, first, 0, 9500)
		}
		val := d.ValBatches(3, 4, T)
		if len(val) != 3 {
			t.Fatalf("got %d validation batches, want 3", len(val))
		}
		var valStarts []int
		for _, b := range val {
			valStarts = append(valStarts, checkRows(t, "val", b, T+1, first, 9500, 9750)...)
		}
		probeStarts := checkRows(t, "probe", d.Probe(10, T), T, first, 9750, 10000)
		// Windows are evenly spaced, so they do not overlap one another.
		for _, starts := range [][]int{valStarts, probeStarts} {
			for i := 1; i < len(starts); i++ {
				if starts[i]-starts[i-1] < T {
					t.Errorf("first=%d: overlapping held-out windows %v", first, starts)
					break
				}
			}
		}
		if d.Vocab != 1<<16 {
			t.Errorf("vocab %d", d.Vocab)
		}
	}
}

func TestSmallHeldOutFallsBack(t *testing.T) {
	// 30 held-out tokens: half (15) cannot hold a 17-token window, so validation
	// and probes use the whole split (and may overlap).
	d := counting(t, 600, 0.05, "none", 0)
	if d.HeldOutTokens() != 30 {
		t.Fatalf("held-out %d", d.HeldOutTokens())
	}
	checkRows(t, "val", d.ValBatches(1, 5, 16)[0], 17, -1, 570, 600)
	checkRows(t, "probe", d.Probe(5, 17), 17, -1, 570, 600)
}

func TestDeterminism(t *testing.T) {
	d := counting(t, 10000, 0.05, "fixed", 3)
	a := d.TrainBatch(rand.New(rand.NewPCG(5, 9)), 4, 16)
	b := d.TrainBatch(rand.New(rand.NewPCG(5, 9)), 4, 16)
	c := d.TrainBatch(rand.New(rand.NewPCG(5, 10)), 4, 16)
	if !slices.Equal(a, b) {
		t.Error("same rng seed gave different batches")
	}
	if slices.Equal(a, c) {
		t.Error("different rng seeds gave the same batch")
	}
	v1, v2 := d.ValBatches(2, 3, 16), d.ValBatches(2, 3, 16)
	for i := range v1 {
		if !slices.Equal(v1[i], v2[i]) {
			t.Error("ValBatches differ between calls")
		}
	}
	if !slices.Equal(d.Probe(7, 16), d.Probe(7, 16)) {
		t.Error("Probe differs between calls")
	}
}

func bigramCfg() config.Data {
	cfg := config.Default().Data
	cfg.Corpus = config.Corpus{Kind: "bigram_backcopy", Vocab: 64, Triggers: 3, Successors: 3, TriggerRate: 0.1}
	return cfg
}

func TestBigramBackcopy(t *testing.T) {
	c := bigramCfg().Corpus
	toks, err := bigramBackcopy(c, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	n := c.Vocab - c.Triggers // ordinary tokens 0..n-1, triggers n..V-1
	succ := make([]map[uint16]bool, n)
	for i := range succ {
		succ[i] = map[uint16]bool{}
	}
	ordinary, triggered := 0, 0
	for i := 0; i+1 < len(toks); i++ {
		x, y := int(toks[i]), toks[i+1]
		if x >= c.Vocab {
			t.Fatalf("token %d out of vocabulary %d", x, c.Vocab)
		}
		if x >= n {
			// Backcopy: the token after a trigger equals the token before it.
			if i == 0 || y != toks[i-1] {
				t.Fatalf("position %d: trigger %d followed by %d, preceded by %v", i, x, y, toks[max(i-1, 0)])
			}
			if int(toks[i-1]) >= n {
				t.Fatalf("position %d: two triggers in a row", i)
			}
			continue
		}
		ordinary++
		if int(y) >= n {
			triggered++
		} else {
			succ[x][y] = true
		}
	}
	for a, s := range succ {
		if len(s) != c.Successors {
			t.Errorf("token %d has %d distinct successors, want %d", a, len(s), c.Successors)
		}
	}
	if rate := float64(triggered) / float64(ordinary); rate < 0.095 || rate > 0.105 {
		t.Errorf("trigger rate %.4f, want about %g", rate, c.TriggerRate)
	}
	// The same settings give the same stream: the chain comes from a fixed seed.
	again, _ := bigramBackcopy(c, 1<<20)
	if !slices.Equal(toks, again) {
		t.Error("generator is not deterministic")
	}
}

// With lags, trigger k copies the token 1 + k mod lags before it, each
// distance occurs, and lags 1 is the original stream token for token.
func TestBigramBackcopyLags(t *testing.T) {
	c := bigramCfg().Corpus
	plain, err := bigramBackcopy(c, 1<<18)
	if err != nil {
		t.Fatal(err)
	}
	c.Lags = 1
	one, err := bigramBackcopy(c, 1<<18)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plain, one) {
		t.Error("lags 1 changed the stream")
	}
	for _, lags := range []int{2, 3} {
		c.Lags = lags
		toks, err := bigramBackcopy(c, 1<<18)
		if err != nil {
			t.Fatal(err)
		}
		n := c.Vocab - c.Triggers
		seen := map[int]int{} // distance -> copies checked
		triggers := 0
		for i := lags; i+1 < len(toks); i++ {
			x := int(toks[i])
			if x < n {
				continue
			}
			d := 1 + (x-n)%lags
			if toks[i+1] != toks[i-d] {
				t.Fatalf("lags %d, position %d: trigger %d (distance %d) followed by %d, want %d", lags, i, x, d, toks[i+1], toks[i-d])
			}
			if int(toks[i+1]) >= n || int(toks[i-1]) >= n {
				t.Fatalf("lags %d, position %d: a trigger next to trigger %d", lags, i, x)
			}
			seen[d]++
			triggers++
		}
		// The stream keeps its randomness: triggers at about the set rate.
		if rate := float64(triggers) / float64(len(toks)); rate < 0.08 || rate > 0.1 {
			t.Errorf("lags %d: %.4f of tokens are triggers, want about %g/(1+%g)", lags, rate, c.TriggerRate, c.TriggerRate)
		}
		for d := 1; d <= lags; d++ {
			if seen[d] == 0 {
				t.Errorf("lags %d: no copy at distance %d", lags, d)
			}
		}
	}
	c.Lags = c.Triggers + 1
	if _, err := bigramBackcopy(c, 100); err == nil {
		t.Error("more lags than triggers accepted")
	}
}

func TestBigramBackcopyDataset(t *testing.T) {
	cfg := bigramCfg()
	cfg.FirstToken = config.FirstToken{Kind: "fixed", Token: 64} // a dedicated id
	d, err := Load(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Vocab != 65 {
		t.Errorf("vocab %d, want 65 (64 + the fixed token)", d.Vocab)
	}
	if got := d.TrainTokens() + d.HeldOutTokens(); got != BigramBackcopyTokens {
		t.Errorf("%d tokens, want %d", got, BigramBackcopyTokens)
	}
	// Golden fingerprint: a change here changes every bigram_backcopy run's
	// data, so config.Version must be bumped with it.
	if fp := d.Fingerprint(); fp != "sha256:72985b1da74d7d30" {
		t.Errorf("fingerprint %s changed", fp)
	}
	b := d.TrainBatch(rand.New(rand.NewPCG(1, 1)), 4, 32)
	for r := range 4 {
		if b[r*33] != 64 {
			t.Errorf("row %d starts with %d", r, b[r*33])
		}
		for _, v := range b[r*33+1 : (r+1)*33] {
			if v >= 64 {
				t.Errorf("data token %d >= 64", v)
			}
		}
	}
	if !strings.Contains(d.Describe(), "bigram_backcopy v1: vocab 64, triggers 3 (ids 61..63)") {
		t.Errorf("Describe: %s", d.Describe())
	}
	for _, bad := range []config.Corpus{
		{Kind: "bigram_backcopy", Vocab: 4, Triggers: 3, Successors: 1},
		{Kind: "bigram_backcopy", Vocab: 8, Triggers: 2, Successors: 7},
		{Kind: "bigram_backcopy", Vocab: 8, Triggers: 0, Successors: 1},
	} {
		cfg.Corpus = bad
		if _, err := Load(cfg, ""); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func filesCfg(paths ...string) config.Data {
	cfg := config.Default().Data
	cfg.Corpus = config.Corpus{Kind: "files", Paths: paths}
	cfg.Context = 4
	cfg.Holdout = 0.25
	return cfg
}

func TestFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"text/b.txt": "bbbbbbbbbbbbbbbbbbb",
		"text/a.txt": "aaaaaaaaaaaaaaaaaaa",
		"c.md":       "ccccccccccccccccccc",
	})
	// Globs relative to baseDir, sorted, de-duplicated (a.txt matched twice).
	d, err := Load(filesCfg("text/*.txt", "c.md", "text/a.txt"), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"ccccccccccccccccccc", "aaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbb"}, "\n")
	// Sorted by full path: dir/c.md < dir/text/a.txt < dir/text/b.txt.
	if got := string(d.corpus.tokens.b); got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if d.TrainTokens() != 44 || d.HeldOutTokens() != 15 {
		t.Errorf("splits %d / %d, want 44 / 15", d.TrainTokens(), d.HeldOutTokens())
	}
	// The held-out split is the end of the stream: only b's.
	for _, v := range d.Probe(3, 4) {
		if v != 'b' {
			t.Errorf("probe token %q, want b", v)
		}
	}
	if !strings.Contains(d.Describe(), "files: 3 of 3 files") || d.Vocab != 256 {
		t.Errorf("Describe %q, vocab %d", d.Describe(), d.Vocab)
	}

	// MaxBytes cuts the stream.
	cfg := filesCfg("text/*.txt")
	cfg.Corpus.MaxBytes = 25
	d, err = Load(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(d.corpus.tokens.b); got != "aaaaaaaaaaaaaaaaaaa\nbbbbb" {
		t.Errorf("capped text %q", got)
	}
}

func TestFilesErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.txt": "aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "d.jsonl": "{}", "tiny.txt": "x"})
	for _, c := range []struct {
		cfg  config.Data
		want string
	}{
		{filesCfg("a.txt", "missing/*.txt"), `"missing/*.txt"`},
		{filesCfg("nope.txt"), `"nope.txt" (in ` + dir + `) matches no file`},
		{filesCfg("[bad"), "bad pattern"},
		{filesCfg("d.jsonl"), "use corpus jsonl(paths: [...])"},
		{filesCfg(), "no paths"},
		{filesCfg("tiny.txt"), "must each hold one window"},
	} {
		_, err := Load(c.cfg, dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want it to mention %s", c.cfg.Corpus.Paths, err, c.want)
		}
	}
	cfg := filesCfg("a.txt")
	cfg.Tokenizer = config.Tokenizer{Kind: "wordpiece"}
	if _, err := Load(cfg, dir); err == nil || !strings.Contains(err.Error(), "tokenizer") {
		t.Errorf("tokenizer error: %v", err)
	}
}

func TestBuiltin(t *testing.T) {
	cfg := config.Default().Data
	cfg.Corpus.MaxBytes = 200_000
	d, err := Load(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.TrainTokens() + d.HeldOutTokens(); got != 200_000 {
		t.Errorf("%d tokens, want the 200000 cap", got)
	}
	text := string(d.corpus.tokens.b)
	if !strings.Contains(text, "package ") || !strings.Contains(text, "func ") {
		t.Errorf("builtin corpus does not look like Go: %.200q", text)
	}
	if !strings.HasPrefix(d.Describe(), "builtin: go") {
		t.Errorf("Describe: %s", d.Describe())
	}
}

func TestCache(t *testing.T) {
	var c Cache
	cfg := bigramCfg()
	d1, err := c.Load(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Context = 32
	cfg.FirstToken = config.FirstToken{Kind: "fixed", Token: 0}
	d2, err := c.Load(cfg, "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	if d1.corpus != d2.corpus {
		t.Error("runs differing only in context and first token did not share the corpus")
	}
	cfg.Corpus.TriggerRate = 0.2
	d3, _ := c.Load(cfg, "")
	if d3.corpus == d1.corpus {
		t.Error("different corpora shared a cache entry")
	}

	// Concurrent loads of a new corpus read it once.
	cfg.Corpus.TriggerRate = 0.3
	ds := make([]*Dataset, 4)
	var wg sync.WaitGroup
	for i := range ds {
		wg.Go(func() { ds[i], _ = c.Load(cfg, "") })
	}
	wg.Wait()
	for _, d := range ds {
		if d == nil || d.corpus != ds[0].corpus {
			t.Fatal("concurrent loads did not share one corpus")
		}
	}
}

func TestVocabSize(t *testing.T) {
	for _, c := range []struct {
		corpus, tokenizer string
		first             config.FirstToken
		want              int
	}{
		{"builtin", "bytes", config.FirstToken{Kind: "none"}, 256},
		{"files", "bytes", config.FirstToken{Kind: "fixed", Token: 0}, 256},
		{"builtin", "bytes", config.FirstToken{Kind: "fixed", Token: 256}, 257},
		{"bigram_backcopy", "bytes", config.FirstToken{Kind: "none"}, 64},
		{"bigram_backcopy", "bytes", config.FirstToken{Kind: "fixed", Token: 70}, 71},
		{"bigram_backcopy", "bytes", config.FirstToken{Kind: "bos", Token: 3}, 64}, // the compiler's resolved BOS id
	} {
		cfg := bigramCfg()
		cfg.Corpus.Kind, cfg.Tokenizer, cfg.FirstToken = c.corpus, config.Tokenizer{Kind: c.tokenizer}, c.first
		if got, err := VocabSize(cfg); err != nil || got != c.want {
			t.Errorf("%+v: vocab %d, %v; want %d", c, got, err, c.want)
		}
	}
}

// A bos first token (its id resolved by the compiler) is placed exactly as
// a fixed one.
func TestBOSFirstTokenIsFixed(t *testing.T) {
	for _, kind := range []string{"fixed", "bos"} {
		cfg := bigramCfg()
		cfg.FirstToken = config.FirstToken{Kind: kind, Token: 3}
		d, err := Load(cfg, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.first != 3 || d.Vocab != 64 {
			t.Errorf("%s: first token %d, vocab %d; want 3, 64", kind, d.first, d.Vocab)
		}
	}
}

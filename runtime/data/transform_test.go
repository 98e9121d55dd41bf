package data

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

// countingWith is a dataset over the stream 0, 1, ..., n-1 (uint16, corpus
// vocabulary 65536) with context 16, holdout 0.05 and the changes of mod.
func countingWith(n int, mod func(*config.Data)) (*Dataset, error) {
	w := make([]uint16, n)
	for i := range w {
		w[i] = uint16(i)
	}
	cfg := config.Default().Data
	cfg.Corpus.Kind = "bigram_backcopy"
	cfg.Corpus.Vocab = 1 << 16
	cfg.Holdout = 0.05
	cfg.Context = 16
	if mod != nil {
		mod(&cfg)
	}
	return newDataset(cfg, &corpus{name: "counting", desc: "counting", tokens: stream{w: w}})
}

func mustCounting(t *testing.T, n int, mod func(*config.Data)) *Dataset {
	t.Helper()
	d, err := countingWith(n, mod)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// layout says what each position of a row must hold.
type layout struct {
	first          int32 // -1: none
	fixedAt        int   // 0-based; -1: none
	fixedTok       int32
	randLo, randHi int // 0-based [lo, hi) random positions
}

// checkLayout checks every row of rowLen tokens: the first and fixed tokens
// in place, the random positions below base, and every other position a
// consecutive window of the counting stream within [lo, hi). It returns, per
// row, the row's random tokens.
func checkLayout(t *testing.T, what string, toks []int32, rowLen int, l layout, base, lo, hi int) [][]int32 {
	t.Helper()
	if len(toks)%rowLen != 0 {
		t.Fatalf("%s: %d tokens is not a multiple of rows of %d", what, len(toks), rowLen)
	}
	var random [][]int32
	for r := 0; r < len(toks); r += rowLen {
		row := toks[r : r+rowLen]
		start := -1 // the stream position of row index off
		off := 0
		if l.first >= 0 {
			off = 1
		}
		var rnd []int32
		for i, v := range row {
			switch {
			case i == 0 && l.first >= 0:
				if v != l.first {
					t.Fatalf("%s: row %v: position 1 holds %d, want the first token %d", what, row, v, l.first)
				}
			case i == l.fixedAt:
				if v != l.fixedTok {
					t.Fatalf("%s: row %v: position %d holds %d, want the fixed token %d", what, row, i+1, v, l.fixedTok)
				}
			case i >= l.randLo && i < l.randHi:
				if v < 0 || int(v) >= base {
					t.Fatalf("%s: row %v: random token %d outside [0, %d)", what, row, v, base)
				}
				rnd = append(rnd, v)
			default:
				if start < 0 {
					start = int(v) - (i - off)
				}
				if int(v) != start+i-off || int(v) < lo || int(v) >= hi {
					t.Fatalf("%s: row %v: position %d holds %d, not the window of [%d, %d) starting at %d", what, row, i+1, v, lo, hi, start)
				}
			}
		}
		random = append(random, rnd)
	}
	return random
}

func TestFixedToken(t *testing.T) {
	const T = 16
	for _, c := range []struct {
		name  string
		first config.FirstToken
		fixed config.FixedToken
	}{
		{"position 2", config.FirstToken{Kind: "none"}, config.FixedToken{Kind: "fixed", Position: 2, Token: 7}},
		{"position 2 after a first token", config.FirstToken{Kind: "fixed", Token: 3}, config.FixedToken{Kind: "fixed", Position: 2, Token: 7}},
		{"last input position", config.FirstToken{Kind: "fixed", Token: 3}, config.FixedToken{Kind: "fixed", Position: T, Token: 65535}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := mustCounting(t, 10000, func(cfg *config.Data) { cfg.FirstToken, cfg.FixedToken = c.first, c.fixed })
			l := layout{first: -1, fixedAt: c.fixed.Position - 1, fixedTok: int32(c.fixed.Token)}
			if c.first.Kind == "fixed" {
				l.first = int32(c.first.Token)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for range 10 {
				checkLayout(t, "train", d.TrainBatch(rng, 8, T), T+1, l, d.base, 0, 9500)
			}
			for _, b := range d.ValBatches(2, 4, T) {
				checkLayout(t, "val", b, T+1, l, d.base, 9500, 9750)
			}
			for _, kind := range []string{"natural", "random", "repeated"} {
				m := probeMeasure(kind, 5, 10, T)
				p, err := d.ProbeFor(m)
				if err != nil {
					t.Fatal(err)
				}
				for r := 0; r < len(p); r += T {
					if p[r+l.fixedAt] != l.fixedTok || (l.first >= 0 && p[r] != l.first) {
						t.Fatalf("%s probe row %v: first or fixed token missing", kind, p[r:r+T])
					}
				}
				if kind == "natural" {
					checkLayout(t, "probe", p, T, l, d.base, 9750, 10000)
				}
			}
			// A shorter probe does not reach the position: it is left as data.
			short, err := d.ProbeFor(probeMeasure("natural", 0, 3, 2))
			if err != nil || len(short) != 6 {
				t.Fatalf("short probe: %v, %v", short, err)
			}
			if want := max(c.first.Token+1, c.fixed.Token+1, 1<<16); d.Vocab != want {
				t.Errorf("vocab %d, want %d", d.Vocab, want)
			}
		})
	}
}

func probeMeasure(kind string, token, n, T int) config.Measure {
	m := config.Default().Measure
	m.Probe = config.Probe{Kind: kind, Token: token}
	m.ProbeSequences, m.ProbeLength = n, T
	return m
}

func TestRandomSpan(t *testing.T) {
	const T = 16
	for _, c := range []struct {
		name     string
		first    config.FirstToken
		from, to int
	}{
		{"first position", config.FirstToken{Kind: "none"}, 1, 2},
		{"positions 2-4", config.FirstToken{Kind: "none"}, 2, 5},
		{"after a first token", config.FirstToken{Kind: "fixed", Token: 9}, 2, 4},
		{"up to the last input", config.FirstToken{Kind: "none"}, 12, T + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := mustCounting(t, 10000, func(cfg *config.Data) {
				cfg.FirstToken = c.first
				cfg.RandomTokens = config.RandomTokens{Kind: "span", From: c.from, To: c.to}
			})
			l := layout{first: -1, fixedAt: -1, randLo: c.from - 1, randHi: c.to - 1}
			if c.first.Kind == "fixed" {
				l.first = int32(c.first.Token)
			}
			// Rows are windows everywhere but the span; the span's tokens
			// differ from row to row and from batch to batch.
			seen := map[int32]bool{}
			var batches [][]int32
			for s := range uint64(3) {
				b := d.TrainBatch(rand.New(rand.NewPCG(7, s)), 8, T)
				for _, rnd := range checkLayout(t, "train", b, T+1, l, d.base, 0, 9500) {
					for _, v := range rnd {
						seen[v] = true
					}
				}
				batches = append(batches, b)
			}
			if span := c.to - c.from; len(seen) < 3*8*span/2 {
				t.Errorf("only %d distinct random tokens in %d random positions", len(seen), 3*8*span)
			}
			if slices.Equal(batches[0], batches[1]) {
				t.Error("two rng seeds gave the same batch")
			}
			// The same rng state gives the same batch, random tokens included.
			if !slices.Equal(batches[0], d.TrainBatch(rand.New(rand.NewPCG(7, 0)), 8, T)) {
				t.Error("TrainBatch is not a function of the rng state")
			}
			// Held-out rows carry the span too, the same on every call.
			v1, v2 := d.ValBatches(2, 4, T), d.ValBatches(2, 4, T)
			for i := range v1 {
				checkLayout(t, "val", v1[i], T+1, l, d.base, 9500, 9750)
				if !slices.Equal(v1[i], v2[i]) {
					t.Error("ValBatches differ between calls")
				}
			}
			p := d.Probe(6, T)
			checkLayout(t, "probe", p, T, l, d.base, 9750, 10000)
			if !slices.Equal(p, d.Probe(6, T)) {
				t.Error("Probe differs between calls")
			}
		})
	}
}

// TestRandomSpanOff: without a span, batches draw exactly what they drew
// before spans existed (start positions only), so existing runs see the
// same data.
func TestRandomSpanOff(t *testing.T) {
	d := mustCounting(t, 10000, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	got := d.TrainBatch(rng, 4, 16)
	ref := rand.New(rand.NewPCG(3, 4))
	for r := range 4 {
		if s := ref.IntN(9500 - 17 + 1); got[r*17] != int32(s) {
			t.Fatalf("row %d starts at %d, want %d", r, got[r*17], s)
		}
	}
}

func TestUniqueTokens(t *testing.T) {
	for _, c := range []struct {
		budget int
		first  string
	}{{17, "none"}, {100, "none"}, {16, "fixed"}, {9500, "none"}} {
		d := mustCounting(t, 10000, func(cfg *config.Data) {
			cfg.UniqueTokens = c.budget
			cfg.FirstToken = config.FirstToken{Kind: c.first, Token: 65535}
		})
		if d.TrainTokens() != int64(c.budget) {
			t.Errorf("budget %d: TrainTokens %d", c.budget, d.TrainTokens())
		}
		rng := rand.New(rand.NewPCG(1, 1))
		maxSeen := int32(0)
		for range 200 {
			for i, v := range d.TrainBatch(rng, 4, 16) {
				if c.first == "fixed" && i%17 == 0 {
					continue
				}
				if int(v) >= c.budget {
					t.Fatalf("budget %d: token %d read beyond the budget", c.budget, v)
				}
				maxSeen = max(maxSeen, v)
			}
		}
		if c.budget <= 100 && int(maxSeen) != c.budget-1 {
			t.Errorf("budget %d: windows never reach the budget's last token (max %d)", c.budget, maxSeen)
		}
		// Held-out data are not affected.
		if d.HeldOutTokens() != 500 {
			t.Errorf("held-out %d", d.HeldOutTokens())
		}
		if c.budget < 9500 && !strings.Contains(d.Describe(), "unique-token budget") {
			t.Errorf("Describe: %s", d.Describe())
		}
	}
}

func TestTransformErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*config.Data)
		want string
	}{
		{"budget below a window", func(d *config.Data) { d.UniqueTokens = 16 }, "less than one training window of 17 tokens"},
		{"budget above the split", func(d *config.Data) { d.UniqueTokens = 9501 }, "exceeds the 9500 tokens"},
		{"fixed position 1", func(d *config.Data) { d.FixedToken = config.FixedToken{Kind: "fixed", Position: 1} }, "must lie in 2..16"},
		{"fixed position beyond the context", func(d *config.Data) { d.FixedToken = config.FixedToken{Kind: "fixed", Position: 17} }, "must lie in 2..16"},
		{"empty span", func(d *config.Data) { d.RandomTokens = config.RandomTokens{Kind: "span", From: 3, To: 3} }, "1 <= from < to <= context + 1 = 17"},
		{"span beyond the row", func(d *config.Data) { d.RandomTokens = config.RandomTokens{Kind: "span", From: 3, To: 18} }, "to <= context + 1"},
		{"span over the first token", func(d *config.Data) {
			d.FirstToken = config.FirstToken{Kind: "fixed", Token: 1}
			d.RandomTokens = config.RandomTokens{Kind: "span", From: 1, To: 3}
		}, "overlaps the fixed first token"},
		{"span over the fixed token", func(d *config.Data) {
			d.FixedToken = config.FixedToken{Kind: "fixed", Position: 4, Token: 1}
			d.RandomTokens = config.RandomTokens{Kind: "span", From: 2, To: 5}
		}, "overlaps the fixed token at position 4"},
		{"unknown span kind", func(d *config.Data) { d.RandomTokens.Kind = "spam" }, `unknown random_tokens kind "spam"`},
		{"separator for a generator", func(d *config.Data) { d.Separator = config.Separator{Kind: "eot", Token: 3} }, "does not apply to bigram_backcopy"},
	} {
		if _, err := countingWith(10000, c.mod); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestProbeKinds(t *testing.T) {
	const n, T = 40, 16
	d := mustCounting(t, 10000, func(cfg *config.Data) {
		cfg.FirstToken = config.FirstToken{Kind: "fixed", Token: 65536} // dedicated
		cfg.RandomTokens = config.RandomTokens{Kind: "span", From: 3, To: 5}
	})
	rows := func(p []int32) [][]int32 {
		var out [][]int32
		for r := 0; r < len(p); r += T {
			out = append(out, p[r:r+T])
		}
		return out
	}
	for _, c := range []struct {
		kind  string
		token int
		check func(t *testing.T, rows [][]int32)
	}{
		{"natural", 0, func(t *testing.T, rs [][]int32) {
			checkLayout(t, "natural", slices.Concat(rs...), T, layout{first: 65536, fixedAt: -1, randLo: 2, randHi: 4}, d.base, 9750, 10000)
		}},
		{"", 0, func(t *testing.T, rs [][]int32) { // empty kind: natural
			if !slices.Equal(slices.Concat(rs...), d.Probe(n, T)) {
				t.Error("the default probe is not the natural one")
			}
		}},
		{"random", 0, func(t *testing.T, rs [][]int32) {
			seen := map[int32]bool{}
			for _, r := range rs {
				if r[0] != 65536 {
					t.Fatalf("row %v: no first token", r)
				}
				for _, v := range r[1:] {
					if v < 0 || v >= 1<<16 {
						t.Fatalf("random token %d outside the corpus vocabulary", v)
					}
					seen[v] = true
				}
			}
			if len(seen) < n*(T-1)*9/10 {
				t.Errorf("random probes: only %d distinct tokens of %d", len(seen), n*(T-1))
			}
		}},
		{"repeated", 42, func(t *testing.T, rs [][]int32) {
			for _, r := range rs {
				if r[0] != 65536 || slices.ContainsFunc(r[1:], func(v int32) bool { return v != 42 }) {
					t.Fatalf("row %v: want the first token, then 42 repeated (no random span)", r)
				}
			}
		}},
		{"repeated", 65536, func(t *testing.T, rs [][]int32) { // the dedicated id itself
			for _, r := range rs {
				if slices.ContainsFunc(r, func(v int32) bool { return v != 65536 }) {
					t.Fatalf("row %v", r)
				}
			}
		}},
		{"repeated", -1, func(t *testing.T, rs [][]int32) {
			tokens := map[int32]bool{}
			for _, r := range rs {
				if r[0] != 65536 || slices.ContainsFunc(r[1:], func(v int32) bool { return v != r[1] }) {
					t.Fatalf("row %v: want the first token, then one token repeated", r)
				}
				tokens[r[1]] = true
			}
			if len(tokens) < n/2 {
				t.Errorf("repeated(token: -1): only %d distinct tokens over %d sequences", len(tokens), n)
			}
		}},
	} {
		t.Run(c.kind+"/"+string(rune('0'+c.token%10)), func(t *testing.T) {
			p, err := d.ProbeFor(probeMeasure(c.kind, c.token, n, T))
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != n*T {
				t.Fatalf("%d tokens, want %d", len(p), n*T)
			}
			again, _ := d.ProbeFor(probeMeasure(c.kind, c.token, n, T))
			if !slices.Equal(p, again) {
				t.Error("probes differ between calls")
			}
			c.check(t, rows(p))
		})
	}
	for _, c := range []struct {
		m    config.Measure
		want string
	}{
		{probeMeasure("repeated", 65537, n, T), "outside the vocabulary (0 to 65536"},
		{probeMeasure("repeated", -2, n, T), "outside the vocabulary"},
		{probeMeasure("zipf", 0, n, T), `unknown probe kind "zipf"`},
		{probeMeasure("natural", 0, 0, T), "must be positive"},
		{probeMeasure("natural", 0, 1, 600), "the held-out split has 500"},
	} {
		if _, err := d.ProbeFor(c.m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want it to mention %q", c.m.Probe, err, c.want)
		}
	}
}

// TestRandomTokensStayInCorpusVocabulary: random tokens never take the
// dedicated ids (first token, separator) that grow the vocabulary.
func TestRandomTokensStayInCorpusVocabulary(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.txt": strings.Repeat("abcdefgh", 200)})
	cfg := filesCfg("a.txt")
	cfg.Context = 8
	cfg.FirstToken = config.FirstToken{Kind: "fixed", Token: 256}
	cfg.Separator = config.Separator{Kind: "eot", Token: 257}
	cfg.RandomTokens = config.RandomTokens{Kind: "span", From: 2, To: 9}
	d, err := Load(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Vocab != 258 || d.base != 256 {
		t.Fatalf("vocab %d, base %d; want 258, 256", d.Vocab, d.base)
	}
	p, err := d.ProbeFor(probeMeasure("random", 0, 50, 8))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]int32{d.TrainBatch(rand.New(rand.NewPCG(1, 1)), 50, 8), p} {
		for i, v := range b {
			if v >= 256 && !(v == 256 && (i%9 == 0 || i%8 == 0)) {
				t.Fatalf("token %d at %d: random tokens must stay below 256", v, i)
			}
		}
	}
}

func TestJSONL(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.jsonl": `{"text": "hello", "id": 1}` + "\n\n" + `{"id": 2, "text": "w\u00f6rld"}` + "\n",
		"b.jsonl": `{"text": "", "body": "x"}` + "\r\n" + `{"text": "last"}`, // no final newline; CRLF
		"c.json":  `{"body": "alpha"}` + "\n" + `{"body": "beta"}` + "\n",
		"bad.txt": `{"text": 3}`,
		"obj.txt": `["text"]`,
	})
	jsonl := func(field string, sep config.Separator, paths ...string) config.Data {
		cfg := filesCfg(paths...)
		cfg.Corpus = config.Corpus{Kind: "jsonl", Paths: paths, Field: field}
		cfg.Context = 2
		cfg.Holdout = 0.3
		cfg.Separator = sep
		return cfg
	}
	newline := config.Separator{Kind: "newline"}
	for _, c := range []struct {
		name string
		cfg  config.Data
		want []int32 // nil: text below
		text string
	}{
		{"records joined by newlines", jsonl("text", newline, "*.jsonl"), nil, "hello\nwörld\n\nlast"},
		{"another field", jsonl("body", newline, "c.json"), nil, "alpha\nbeta"},
		{"default field", jsonl("", newline, "a.jsonl"), nil, "hello\nwörld"},
		{"no separator", jsonl("text", config.Separator{Kind: "none"}, "*.jsonl"), nil, "hellowörldlast"},
		{"end-of-text id 256", jsonl("body", config.Separator{Kind: "eot", Token: 256}, "c.json"),
			[]int32{'a', 'l', 'p', 'h', 'a', 256, 'b', 'e', 't', 'a'}, ""},
	} {
		d, err := Load(c.cfg, dir)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := make([]int32, d.corpus.tokens.len())
		d.corpus.tokens.copyTo(got, 0)
		want := c.want
		if want == nil {
			for _, b := range []byte(c.text) {
				want = append(want, int32(b))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: stream %v, want %v", c.name, got, want)
		}
	}
	for _, c := range []struct {
		cfg  config.Data
		want string
	}{
		{jsonl("body", newline, "a.jsonl"), `a.jsonl:1: the record has no "body" field`},
		{jsonl("text", newline, "bad.txt"), `bad.txt:1: field "text" is not a string`},
		{jsonl("text", newline, "obj.txt"), "obj.txt:1: not a JSON object"},
		{jsonl("text", newline, "none/*.jsonl"), "matches no file"},
	} {
		if _, err := Load(c.cfg, dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want it to mention %s", c.cfg.Corpus.Paths, err, c.want)
		}
	}
}

func writeTokens(t *testing.T, dir, name string, toks ...uint16) {
	t.Helper()
	b := make([]byte, 0, 2*len(toks))
	for _, v := range toks {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTokens(t *testing.T) {
	dir := t.TempDir()
	writeTokens(t, dir, "train.bin", 1, 2, 3, 4, 5, 50256, 6, 7)
	writeTokens(t, dir, "val.bin", 8, 9, 10, 11, 12)
	writeTokens(t, dir, "big.dat", 50304)
	if err := os.WriteFile(filepath.Join(dir, "odd.dat"), []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	tokens := func(vocab, maxTokens int, sep config.Separator, paths ...string) config.Data {
		cfg := config.Default().Data
		cfg.Corpus = config.Corpus{Kind: "tokens", Paths: paths, Vocab: vocab, MaxTokens: maxTokens}
		cfg.Separator = sep
		cfg.Context = 2
		cfg.Holdout = 0.25
		return cfg
	}
	for _, c := range []struct {
		name  string
		cfg   config.Data
		want  []int32
		vocab int
	}{
		{"files back to back", tokens(50304, 0, config.Separator{Kind: "newline"}, "*.bin"),
			[]int32{1, 2, 3, 4, 5, 50256, 6, 7, 8, 9, 10, 11, 12}, 50304},
		{"GPT-2 end of text between files", tokens(50304, 0, config.Separator{Kind: "eot", Token: 50256}, "*.bin"),
			[]int32{1, 2, 3, 4, 5, 50256, 6, 7, 50256, 8, 9, 10, 11, 12}, 50304},
		{"dedicated separator", tokens(50257, 0, config.Separator{Kind: "eot", Token: 50257}, "train.bin", "val.bin"),
			[]int32{1, 2, 3, 4, 5, 50256, 6, 7, 50257, 8, 9, 10, 11, 12}, 50258},
		{"capped", tokens(50304, 10, config.Separator{Kind: "none"}, "*.bin"),
			[]int32{1, 2, 3, 4, 5, 50256, 6, 7, 8, 9}, 50304},
	} {
		d, err := Load(c.cfg, dir)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := make([]int32, d.corpus.tokens.len())
		d.corpus.tokens.copyTo(got, 0)
		if !slices.Equal(got, c.want) || d.Vocab != c.vocab {
			t.Errorf("%s: stream %v, vocab %d; want %v, %d", c.name, got, d.Vocab, c.want, c.vocab)
		}
		if v, _ := VocabSize(c.cfg); v != d.Vocab || c.cfg.VocabSize() != d.Vocab {
			t.Errorf("%s: VocabSize %d / config %d, Dataset.Vocab %d", c.name, v, c.cfg.VocabSize(), d.Vocab)
		}
		if !strings.HasPrefix(d.Describe(), "tokens: ") {
			t.Errorf("Describe: %s", d.Describe())
		}
	}
	for _, c := range []struct {
		cfg  config.Data
		want string
	}{
		{tokens(50304, 0, config.Separator{}, "big.dat"), "token 50304 (at index 0) is outside the vocabulary of 50304"},
		{tokens(50257, 0, config.Separator{}, "train.bin", "val.bin", "big.dat"), "token 50304"},
		{tokens(50304, 0, config.Separator{}, "odd.dat"), "has 3 bytes, not a whole number of uint16 tokens"},
		{tokens(0, 0, config.Separator{}, "train.bin"), "vocab 0 must lie in 1..65536"},
		{tokens(50304, 0, config.Separator{}), "no paths given"},
	} {
		if _, err := Load(c.cfg, dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want it to mention %s", c.cfg.Corpus.Paths, err, c.want)
		}
	}
}

func TestSeparator(t *testing.T) {
	dir := writeFiles(t, map[string]string{"1.txt": "", "2.txt": "ab", "3.txt": "", "4.txt": "cd", "x.bin": "ab"})
	for _, c := range []struct {
		sep   config.Separator
		want  []int32
		vocab int
		wide  bool
	}{
		// A leading empty document adds nothing; later ones add a separator.
		{config.Separator{Kind: "newline"}, []int32{'a', 'b', '\n', '\n', 'c', 'd'}, 256, false},
		{config.Separator{Kind: "none"}, []int32{'a', 'b', 'c', 'd'}, 256, false},
		{config.Separator{Kind: "eot", Token: 0}, []int32{'a', 'b', 0, 0, 'c', 'd'}, 256, false},
		{config.Separator{Kind: "eot", Token: 256}, []int32{'a', 'b', 256, 256, 'c', 'd'}, 257, true},
		{config.Separator{Kind: "eot", Token: 1000}, []int32{'a', 'b', 1000, 1000, 'c', 'd'}, 1001, true},
	} {
		cfg := filesCfg("*.txt")
		cfg.Context = 1
		cfg.Holdout = 0.4
		cfg.Separator = c.sep
		d, err := Load(cfg, dir)
		if err != nil {
			t.Fatalf("%+v: %v", c.sep, err)
		}
		got := make([]int32, d.corpus.tokens.len())
		d.corpus.tokens.copyTo(got, 0)
		if !slices.Equal(got, c.want) || d.Vocab != c.vocab || (d.corpus.tokens.w != nil) != c.wide {
			t.Errorf("%+v: stream %v, vocab %d, wide %v; want %v, %d, %v", c.sep, got, d.Vocab, d.corpus.tokens.w != nil, c.want, c.vocab, c.wide)
		}
	}
	if _, err := Load(filesCfg("x.bin"), dir); err == nil || !strings.Contains(err.Error(), "use corpus tokens(") {
		t.Errorf(".bin in a files corpus: %v", err)
	}
	// The separator is part of the corpus: the cache keeps one stream per separator.
	var cache Cache
	cfg := filesCfg("*.txt")
	cfg.Context, cfg.Holdout = 1, 0.4
	d1, err1 := cache.Load(cfg, dir)
	cfg.Separator = config.Separator{Kind: "eot", Token: 256}
	d2, err2 := cache.Load(cfg, dir)
	cfg.Separator = config.Separator{Kind: "eot", Token: 10} // the same stream as newline
	d3, err3 := cache.Load(cfg, dir)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	if d1.corpus == d2.corpus || d1.corpus != d3.corpus {
		t.Error("cache entries do not follow the separator")
	}
}

// TestVocabSizeMirrorsConfig: data.VocabSize and config.Data.VocabSize agree
// (the compiler sizes the model with the latter).
func TestVocabSizeMirrorsConfig(t *testing.T) {
	eot := func(id int) config.Separator { return config.Separator{Kind: "eot", Token: id} }
	fixed := func(id int) config.FixedToken { return config.FixedToken{Kind: "fixed", Position: 2, Token: id} }
	for _, c := range []struct {
		name   string
		corpus string
		vocab  int
		first  config.FirstToken
		fixed  config.FixedToken
		sep    config.Separator
		want   int
	}{
		{"bytes", "builtin", 0, config.FirstToken{Kind: "none"}, config.FixedToken{Kind: "none"}, config.Separator{Kind: "newline"}, 256},
		{"bytes, eot 256", "files", 0, config.FirstToken{Kind: "none"}, config.FixedToken{Kind: "none"}, eot(256), 257},
		{"bytes, eot inside", "jsonl", 0, config.FirstToken{Kind: "none"}, config.FixedToken{Kind: "none"}, eot(3), 256},
		{"bytes, BOS 256 and eot 256", "files", 0, config.FirstToken{Kind: "fixed", Token: 256}, config.FixedToken{Kind: "none"}, eot(256), 257},
		{"bytes, BOS 256 and eot 257", "files", 0, config.FirstToken{Kind: "fixed", Token: 256}, config.FixedToken{Kind: "none"}, eot(257), 258},
		{"bytes, fixed token 300", "builtin", 0, config.FirstToken{Kind: "none"}, fixed(300), config.Separator{Kind: "none"}, 301},
		{"tokens", "tokens", 50304, config.FirstToken{Kind: "none"}, config.FixedToken{Kind: "none"}, eot(50256), 50304},
		{"tokens, dedicated eot", "tokens", 50257, config.FirstToken{Kind: "none"}, config.FixedToken{Kind: "none"}, eot(50257), 50258},
		{"synthetic, fixed token", "bigram_backcopy", 64, config.FirstToken{Kind: "none"}, fixed(64), config.Separator{Kind: "newline"}, 65},
	} {
		cfg := config.Default().Data
		cfg.Corpus.Kind, cfg.Corpus.Vocab = c.corpus, c.vocab
		cfg.FirstToken, cfg.FixedToken, cfg.Separator = c.first, c.fixed, c.sep
		got, err := VocabSize(cfg)
		if err != nil || got != c.want || cfg.VocabSize() != c.want {
			t.Errorf("%s: data.VocabSize %d (%v), config %d; want %d", c.name, got, err, cfg.VocabSize(), c.want)
		}
	}
	cfg := config.Default().Data
	cfg.Separator = eot(65536)
	if _, err := VocabSize(cfg); err == nil {
		t.Error("separator 65536 accepted")
	}
}

// TestDefaultsKeepRunIDs: the data and measure settings added with the
// ablation axes are left out of a run's JSON at their defaults, so runs that
// do not use them keep their ids (and cached results).
func TestDefaultsKeepRunIDs(t *testing.T) {
	r := config.Default()
	r.Data.Corpus = config.Corpus{Kind: "files", Paths: []string{"x.txt"}, Field: "text", Vocab: 64}
	js := r.JSON()
	for _, key := range []string{`"separator"`, `"fixed_token"`, `"random_tokens"`, `"unique_tokens"`, `"probe":`, `"field"`, `"max_tokens"`} {
		if strings.Contains(js, key) {
			t.Errorf("default run JSON has %s: %s", key, js)
		}
	}
	if !strings.Contains(js, `"corpus":{"kind":"files","paths":["x.txt"]}`) {
		t.Errorf("corpus JSON changed: %s", js)
	}
	on := r
	on.Data.FixedToken = config.FixedToken{Kind: "fixed", Position: 2, Token: 0}
	if on.ID() == r.ID() || !strings.Contains(on.JSON(), `"fixed_token":{"kind":"fixed","position":2,"token":0}`) {
		t.Errorf("a fixed token does not change the run: %s", on.JSON())
	}
}

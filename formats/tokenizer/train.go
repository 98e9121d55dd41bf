package tokenizer

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Training a byte-level BPE, as GPT-2's was trained: the text is cut into
// pieces by GPT-2's split, each distinct piece (a "word") is counted, and
// starting from the 256 bytes the most frequent adjacent pair of tokens,
// weighted by word counts, is merged into a new token, again and again,
// until the vocabulary has the size asked for. Ties go to the pair whose
// left token's bytes come first in byte order, then its right token's, so
// the result depends on the text alone.

// EndOfText is the special token a trained tokenizer ends its vocabulary
// with, as GPT-2's does: the eot separator's id and, for the loader, the
// tokenizer's BOS (never added to text by itself).
const EndOfText = gpt2EndOfText

// MinTrainVocab is the smallest vocabulary Train makes: the 256 bytes and
// EndOfText, without merges.
const MinTrainVocab = 257

// WordCounts counts the pieces of text that GPT-2's split cuts, the words
// BPE training merges within.
type WordCounts map[string]int

// Add counts the pieces of a document.
func (w WordCounts) Add(doc []byte) {
	splitGPT2(string(doc), func(piece string) { w[piece]++ })
}

// Trained is a byte-level BPE learned by Train: tokens 0 to 255 are the
// bytes 0 to 255, then the tokens the merges made in order (one each),
// then EndOfText.
type Trained struct {
	tokens [][]byte   // the bytes of each token but the last, EndOfText
	merges [][2]int32 // the merges in rank order: left and right token ids
	Stats  TrainStats // what training saw
}

// TrainStats describes a training.
type TrainStats struct {
	Words  int   // distinct words
	Pieces int64 // words counted with repetition
	Bytes  int64 // bytes of the words counted
	Tokens int64 // tokens of the counted words after all merges
}

// Size is the number of token ids, EndOfText included.
func (t *Trained) Size() int { return len(t.tokens) + 1 }

// Merges is the number of merges.
func (t *Trained) Merges() int { return len(t.merges) }

// BytesPerToken is the compression on the training text: its bytes over
// its tokens (separators between documents not counted).
func (t *Trained) BytesPerToken() float64 {
	if t.Stats.Tokens == 0 {
		return 0
	}
	return float64(t.Stats.Bytes) / float64(t.Stats.Tokens)
}

// trainWord is a distinct word as tokens, with its count.
type trainWord struct {
	syms  []int32
	count int64
}

// Train learns a byte-level BPE of vocabSize ids (EndOfText included) from
// counted words. It fails when vocabSize is below MinTrainVocab, or when
// the words run out of pairs to merge before the vocabulary is full.
func Train(counts WordCounts, vocabSize int) (*Trained, error) {
	if vocabSize < MinTrainVocab {
		return nil, fmt.Errorf("tokenizer: train: a vocabulary of %d ids is too small: it needs at least %d (the 256 bytes and %s)", vocabSize, MinTrainVocab, EndOfText)
	}
	if vocabSize > 1<<24 {
		return nil, fmt.Errorf("tokenizer: train: a vocabulary of %d ids is more than the %d a tokenizer may have", vocabSize, 1<<24)
	}
	t := &Trained{}
	for b := range 256 {
		t.tokens = append(t.tokens, []byte{byte(b)})
	}
	// Words in sorted order, so that everything below is deterministic.
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	words := make([]trainWord, len(keys))
	for i, k := range keys {
		syms := make([]int32, len(k))
		for j := range len(k) {
			syms[j] = int32(k[j])
		}
		c := int64(counts[k])
		words[i] = trainWord{syms, c}
		t.Stats.Pieces += c
		t.Stats.Bytes += c * int64(len(k))
	}
	t.Stats.Words = len(words)

	p := newPairTable(t)
	for i, w := range words {
		p.addWord(int32(i), w.syms, w.count)
	}
	p.queueAll()
	ids := map[string]int32{} // merged tokens by their bytes
	seen := make([]int, len(words))
	for len(t.tokens)+1 < vocabSize {
		best, ok := p.best()
		if !ok {
			return nil, fmt.Errorf("tokenizer: train: the text has no more pairs to merge after %d merges: a vocabulary of %d ids is the most it gives, not %d (give it more text)", len(t.merges), len(t.tokens)+1, vocabSize)
		}
		left, right := int32(best>>32), int32(uint32(best))
		joined := append(bytes.Clone(t.tokens[left]), t.tokens[right]...)
		// A merge never makes a token another merge made: a span of a word
		// that becomes one token was crossed by no token before (tokens only
		// grow), so every merge acted on it as on the span's bytes alone, and
		// thus as on any other span of the same bytes that became a token:
		// the first merge to join one joined both. A token made twice would
		// reopen pairs next to it that were merged already, and merges.txt
		// would list them twice, which the encoder reads otherwise.
		if old, made := ids[string(joined)]; made {
			return nil, fmt.Errorf("tokenizer: train: merge %d joins tokens %d and %d into %q, which is token %d already: a bug in training", len(t.merges)+1, left, right, joined, old)
		}
		id := int32(len(t.tokens))
		t.tokens = append(t.tokens, joined)
		ids[string(joined)] = id
		t.merges = append(t.merges, [2]int32{left, right})
		stamp := len(t.merges)
		for _, wi := range p.words[best] {
			if seen[wi] == stamp {
				continue // listed twice
			}
			seen[wi] = stamp
			w := &words[wi]
			if !holdsPair(w.syms, left, right) {
				continue // merged otherwise since it was listed
			}
			p.removeWord(w.syms, w.count)
			w.syms = mergePairIn(w.syms, left, right, id)
			p.addMerged(wi, w.syms, w.count, id)
		}
		delete(p.words, best)
		p.requeue()
	}
	for _, w := range words {
		t.Stats.Tokens += int64(len(w.syms)) * w.count
	}
	return t, nil
}

func holdsPair(syms []int32, left, right int32) bool {
	for i := 0; i+1 < len(syms); i++ {
		if syms[i] == left && syms[i+1] == right {
			return true
		}
	}
	return false
}

// mergePairIn replaces each (left, right) in syms, left to right, by id.
func mergePairIn(syms []int32, left, right, id int32) []int32 {
	out := syms[:0]
	for i := 0; i < len(syms); i++ {
		if i+1 < len(syms) && syms[i] == left && syms[i+1] == right {
			out = append(out, id)
			i++
			continue
		}
		out = append(out, syms[i])
	}
	return out
}

// pairTable keeps the count of every adjacent pair over all words, which
// words hold it, and a max-heap to find the most frequent one. Only the
// words holding the merged pair change at a merge, so only their pairs
// are recounted: the heap holds stale entries, skipped when popped, and
// each changed pair is pushed again with its new count.
type pairTable struct {
	t       *Trained
	counts  map[uint64]int64
	words   map[uint64][]int32 // words that hold the pair (or did: stale entries are skipped)
	changed map[uint64]bool    // pairs whose count changed since the last requeue
	heap    []pairCount
}

type pairCount struct {
	pair  uint64
	count int64
}

func newPairTable(t *Trained) *pairTable {
	return &pairTable{t: t, counts: map[uint64]int64{}, words: map[uint64][]int32{}, changed: map[uint64]bool{}}
}

// addWord counts the pairs of a word and indexes the word under each, as
// the words are first read (queueAll then queues the pairs).
func (p *pairTable) addWord(wi int32, syms []int32, count int64) {
	for i := 0; i+1 < len(syms); i++ {
		k := pairKey(syms[i], syms[i+1])
		p.counts[k] += count
		p.words[k] = append(p.words[k], wi)
	}
}

// queueAll queues every pair.
func (p *pairTable) queueAll() {
	for k := range p.counts {
		p.changed[k] = true
	}
	p.requeue()
}

// addMerged counts the pairs of a word just merged into id; it indexes the
// word only under the pairs that hold id: the only pairs the word did not
// hold before the merge.
func (p *pairTable) addMerged(wi int32, syms []int32, count int64, id int32) {
	for i := 0; i+1 < len(syms); i++ {
		k := pairKey(syms[i], syms[i+1])
		p.counts[k] += count
		p.changed[k] = true
		if syms[i] == id || syms[i+1] == id {
			p.words[k] = append(p.words[k], wi)
		}
	}
}

// removeWord uncounts the pairs of a word.
func (p *pairTable) removeWord(syms []int32, count int64) {
	for i := 0; i+1 < len(syms); i++ {
		k := pairKey(syms[i], syms[i+1])
		if p.counts[k] -= count; p.counts[k] == 0 {
			delete(p.counts, k)
		}
		p.changed[k] = true
	}
}

// requeue pushes every changed pair that is still present with its count.
// The changed pairs are pushed in key order so the heap's layout, and so
// the result, does not depend on map order.
func (p *pairTable) requeue() {
	keys := make([]uint64, 0, len(p.changed))
	for k := range p.changed {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if c := p.counts[k]; c > 0 {
			p.push(pairCount{k, c})
		}
	}
	clear(p.changed)
}

// best pops the most frequent pair; ok is false when no pair is left.
func (p *pairTable) best() (pair uint64, ok bool) {
	p.requeue()
	for len(p.heap) > 0 {
		top := p.pop()
		if p.counts[top.pair] == top.count {
			return top.pair, true
		}
	}
	return 0, false
}

// before orders the heap: higher count first, then the pair whose tokens'
// bytes come first.
func (p *pairTable) before(a, b pairCount) bool {
	if a.count != b.count {
		return a.count > b.count
	}
	al, ar := p.t.tokens[int32(a.pair>>32)], p.t.tokens[int32(uint32(a.pair))]
	bl, br := p.t.tokens[int32(b.pair>>32)], p.t.tokens[int32(uint32(b.pair))]
	if c := bytes.Compare(al, bl); c != 0 {
		return c < 0
	}
	return bytes.Compare(ar, br) < 0
}

func (p *pairTable) push(c pairCount) {
	p.heap = append(p.heap, c)
	h := p.heap
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !p.before(h[i], h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (p *pairTable) pop() pairCount {
	h := p.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && p.before(h[l], h[m]) {
			m = l
		}
		if r < len(h) && p.before(h[r], h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	p.heap = h
	return top
}

// tokenString is a token's vocabulary spelling: its bytes as byte-level
// runes.
func tokenString(runes *[256]rune, tok []byte) string {
	var sb strings.Builder
	for _, b := range tok {
		sb.WriteRune(runes[b])
	}
	return sb.String()
}

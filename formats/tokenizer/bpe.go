package tokenizer

import (
	"strings"
	"sync"
)

// merge is what one merges entry does: the pair it joins, found by
// pairKey, becomes token id; lower ranks are applied first.
type merge struct{ rank, id int32 }

func pairKey(left, right int32) uint64 { return uint64(uint32(left))<<32 | uint64(uint32(right)) }

// mergeAll applies the merges to a word's symbols (token ids) and returns
// the merged symbols, reusing syms. Like Hugging Face's BPE (Word::merge_all)
// it repeatedly merges the lowest-ranked adjacent pair, leftmost first, which
// gives the same result as GPT-2's encoder.py (lowest rank first, all its
// occurrences left to right), in O(n log n) for long words: a
// SentencePiece-style tokenizer sees a whole text as one word.
func mergeAll(syms []int32, merges map[uint64]merge) []int32 {
	n := len(syms)
	if n < 2 {
		return syms
	}
	// A doubly linked list over syms: merging keeps the left symbol and
	// removes the right one.
	next := make([]int32, n)
	prev := make([]int32, n)
	for i := range n {
		next[i], prev[i] = int32(i+1), int32(i-1)
	}
	next[n-1] = -1
	removed := make([]bool, n)
	var q candidates
	for i := range n - 1 {
		if m, ok := merges[pairKey(syms[i], syms[i+1])]; ok {
			q.push(candidate{rank: m.rank, pos: int32(i), id: m.id})
		}
	}
	for len(q) > 0 {
		c := q.pop()
		right := next[c.pos]
		if removed[c.pos] || right < 0 {
			continue
		}
		// Skip stale candidates: the pair at pos changed since it was queued.
		if m, ok := merges[pairKey(syms[c.pos], syms[right])]; !ok || m.id != c.id {
			continue
		}
		syms[c.pos] = c.id
		removed[right] = true
		next[c.pos] = next[right]
		if next[right] >= 0 {
			prev[next[right]] = c.pos
		}
		if p := prev[c.pos]; p >= 0 {
			if m, ok := merges[pairKey(syms[p], c.id)]; ok {
				q.push(candidate{rank: m.rank, pos: p, id: m.id})
			}
		}
		if nx := next[c.pos]; nx >= 0 {
			if m, ok := merges[pairKey(c.id, syms[nx])]; ok {
				q.push(candidate{rank: m.rank, pos: c.pos, id: m.id})
			}
		}
	}
	out := syms[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}

// candidate is a queued merge of the pair starting at symbol pos.
type candidate struct{ rank, pos, id int32 }

func (a candidate) before(b candidate) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// candidates is a binary min-heap (container/heap's interface boxing costs
// more than the merging itself on short words).
type candidates []candidate

func (h *candidates) push(c candidate) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].before(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *candidates) pop() candidate {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s[l].before(s[m]) {
			m = l
		}
		if r < len(s) && s[r].before(s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// wordCache remembers the tokens of pieces already encoded: natural text
// repeats its words, so most pieces of a corpus are found here. It is
// bounded and safe for concurrent use.
type wordCache struct {
	mu    sync.Mutex
	words map[string][]int32
}

const (
	cacheMaxWords = 1 << 18 // then the cache starts over
	cacheMaxBytes = 64      // longer pieces are rare and not kept
)

func (c *wordCache) get(piece string) ([]int32, bool) {
	c.mu.Lock()
	ids, ok := c.words[piece]
	c.mu.Unlock()
	return ids, ok
}

func (c *wordCache) put(piece string, ids []int32) {
	if len(piece) > cacheMaxBytes {
		return
	}
	c.mu.Lock()
	if c.words == nil || len(c.words) >= cacheMaxWords {
		c.words = make(map[string][]int32)
	}
	// A piece is a substring of the text: clone it so the cache does not
	// keep the whole text alive.
	c.words[strings.Clone(piece)] = ids
	c.mu.Unlock()
}

package data

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/sinkrun/sinkrun/config"
)

// BigramBackcopyTokens is the length of the generated Bigram-Backcopy stream
// (train and held-out together).
const BigramBackcopyTokens = 1 << 22

// Fixed seeds of the Bigram-Backcopy generator: the chain and the stream are
// the same for every run with the same corpus settings.
const (
	chainSeed  = 0x5eedb16a_c0b1c4a1
	streamSeed = 0x5eedb16a_57e4a301
)

// loadBigramBackcopy generates the Bigram-Backcopy task of Guo et al. 2024
// ("Active-Dormant Attention Heads: Mechanistically Demystifying
// Extreme-Token Phenomena in LLMs"), generator version 1:
//
//   - Vocabulary V = c.Vocab. The trigger tokens are the last c.Triggers ids,
//     V-Triggers .. V-1; the other N = V-Triggers ids (0 .. N-1) are ordinary
//     tokens.
//   - The bigram chain (from a splitmix64 generator seeded with chainSeed):
//     first a random cyclic permutation cycle of 0 .. N-1 (Sattolo's
//     algorithm, descending i, j = intn(i)); then for each ordinary token
//     a = 0 .. N-1 in turn, its c.Successors distinct successors are
//     cycle[a] followed by Successors-1 tokens drawn without replacement
//     (partial Fisher-Yates) from the other N-1 ordinary tokens (a may
//     succeed itself), each with a weight w_i = -ln(1-u_i), u_i uniform in
//     [0,1), drawn right after it; the weights, normalised to sum to 1, are
//     the transition probabilities (a flat Dirichlet draw). The cycle makes
//     the chain irreducible, so every ordinary token occurs (a purely random
//     sparse graph leaves some tokens unreachable). Probabilities are random,
//     not uniform, so predicting the next token needs the learned table.
//   - The stream (a second splitmix64 generator seeded with streamSeed),
//     BigramBackcopyTokens long: x_0 is uniform over the ordinary tokens.
//     Then, for each x_i:
//     if x_i is a trigger, x_{i+1} = x_{i-1} (backcopy: the token after a
//     trigger repeats the token before it);
//     otherwise, with probability c.TriggerRate x_{i+1} is a trigger drawn
//     uniformly, else x_{i+1} is drawn from x_i's successors with their
//     transition probabilities.
//     Triggers only ever follow ordinary tokens, so x_{i-1} above is
//     ordinary; a backcopied token may itself be followed by a trigger.
//   - With c.Lags = L > 1 (an extension, not in Guo et al.), trigger k
//     (the k-th trigger id, 0-based) copies x_{i-d} with d = 1 + k mod L:
//     each distance is its own back-copy job, so a model needs several
//     copying heads, each idle on most tokens. A trigger drawn whose token
//     at its distance would be a trigger (or before the stream) is redrawn,
//     so copies are always ordinary tokens and triggers still follow only
//     ordinary tokens. L = 1 (or 0, unset) is the task above, stream for
//     stream.
//
// Train and held-out are separate stretches of the one stream (the held-out
// split is its end), sharing the chain. Random numbers come from a local
// splitmix64 so the data do not depend on the Go version.
func loadBigramBackcopy(c config.Corpus) (*corpus, error) {
	toks, err := bigramBackcopy(c, BigramBackcopyTokens)
	if err != nil {
		return nil, err
	}
	var s stream
	if c.Vocab <= 256 {
		b := make([]byte, len(toks))
		for i, t := range toks {
			b[i] = byte(t)
		}
		s.b = b
	} else {
		s.w = toks
	}
	n := c.Vocab - c.Triggers
	return &corpus{
		name: "bigram_backcopy corpus",
		desc: fmt.Sprintf("bigram_backcopy v1: vocab %d, triggers %d (ids %d..%d), successors %d, trigger_rate %g%s, %d tokens",
			c.Vocab, c.Triggers, n, c.Vocab-1, c.Successors, c.TriggerRate, lagsDesc(c.Lags), len(toks)),
		tokens: s,
	}, nil
}

func lagsDesc(lags int) string {
	if lags <= 1 {
		return ""
	}
	return fmt.Sprintf(", lags %d", lags)
}

// bigramChain is the transition table of the ordinary tokens.
type bigramChain struct {
	succ [][]uint16  // succ[a]: successors of ordinary token a
	cum  [][]float64 // cum[a][i]: cumulative probability of succ[a][0..i]
}

func newBigramChain(n, successors int) bigramChain {
	r := splitmix{chainSeed}
	// A random cyclic permutation (Sattolo): cycle[a] is a's first successor,
	// which makes the chain irreducible, so every ordinary token occurs.
	cycle := make([]int, n)
	for i := range cycle {
		cycle[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i)
		cycle[i], cycle[j] = cycle[j], cycle[i]
	}
	ch := bigramChain{succ: make([][]uint16, n), cum: make([][]float64, n)}
	perm := make([]int, n)
	for a := range n {
		// perm holds the candidates: cycle[a] first, then the others.
		perm[0] = cycle[a]
		for i, k := 0, 1; i < n; i++ {
			if i != cycle[a] {
				perm[k] = i
				k++
			}
		}
		succ := make([]uint16, successors)
		w := make([]float64, successors)
		sum := 0.0
		for i := range successors {
			if i > 0 { // partial Fisher-Yates over perm[1:]
				j := i + r.intn(n-i)
				perm[i], perm[j] = perm[j], perm[i]
			}
			succ[i] = uint16(perm[i])
			w[i] = -math.Log(1 - r.float64())
			sum += w[i]
		}
		acc := 0.0
		for i := range w {
			acc += w[i] / sum
			w[i] = acc
		}
		w[successors-1] = 1 // guard against rounding
		ch.succ[a], ch.cum[a] = succ, w
	}
	return ch
}

func (ch bigramChain) next(a int, u float64) uint16 {
	cum := ch.cum[a]
	for i, c := range cum {
		if u < c {
			return ch.succ[a][i]
		}
	}
	return ch.succ[a][len(cum)-1]
}

func bigramBackcopy(c config.Corpus, length int) ([]uint16, error) {
	v, nt := c.Vocab, c.Triggers
	n := v - nt
	switch {
	case v > 1<<16:
		return nil, fmt.Errorf("data: bigram_backcopy: vocab %d exceeds 65536", v)
	case nt < 1:
		return nil, fmt.Errorf("data: bigram_backcopy: triggers %d must be at least 1", nt)
	case n < 2:
		return nil, fmt.Errorf("data: bigram_backcopy: vocab %d leaves %d ordinary tokens besides %d triggers; need at least 2", v, n, nt)
	case c.Successors < 1 || c.Successors > n:
		return nil, fmt.Errorf("data: bigram_backcopy: successors %d must lie in 1..%d (the ordinary tokens)", c.Successors, n)
	case !(c.TriggerRate >= 0 && c.TriggerRate <= 1):
		return nil, fmt.Errorf("data: bigram_backcopy: trigger_rate %g must lie in [0, 1]", c.TriggerRate)
	}
	lags := max(c.Lags, 1)
	if lags > nt {
		return nil, fmt.Errorf("data: bigram_backcopy: lags %d needs at least as many triggers (%d)", lags, nt)
	}
	lag := func(k int) int { return 1 + k%lags }
	ch := newBigramChain(n, c.Successors)
	r := splitmix{streamSeed}
	out := make([]uint16, length)
	out[0] = uint16(r.intn(n))
	for i := 0; i+1 < length; i++ {
		x := int(out[i])
		switch {
		case x >= n: // trigger: copy the token lag(x) before it
			out[i+1] = out[i-lag(x-n)]
		case r.float64() < c.TriggerRate:
			// The trigger at i+1 copies x_{i+1-lag}; one whose token there
			// is a trigger is redrawn, so copies are always ordinary tokens
			// (else copies of triggers could loop the stream forever).
			// Lag 1 copies x_i, ordinary here, so the loop ends.
			k := r.intn(nt)
			for lag(k) > 1 && (i+1-lag(k) < 0 || int(out[i+1-lag(k)]) >= n) {
				k = r.intn(nt)
			}
			out[i+1] = uint16(n + k)
		default:
			out[i+1] = ch.next(x, r.float64())
		}
	}
	return out, nil
}

// splitmix is the splitmix64 generator (Steele, Lea, Flood 2014).
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn is uniform in [0, n) by multiply-shift (bias below n/2^64).
func (r *splitmix) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// float64 is uniform in [0, 1).
func (r *splitmix) float64() float64 { return float64(r.next()>>11) / (1 << 53) }

package tokenizer

import "strings"

// addedMatcher finds the added tokens that are not special in a text, as
// Hugging Face's AddedVocabulary does: leftmost match first, the longest
// among those starting there, without overlaps. (Special tokens are not
// looked for: text is text, see the package comment.) GPT-NeoX's
// tokenizer, for one, adds runs of spaces this way.
type addedMatcher struct {
	contents []string
	ids      []int32
}

// split cuts s at the added tokens: text receives the text between them
// (never empty), token each added token's id, in order.
func (m *addedMatcher) split(s string, text func(string), token func(int32)) {
	if m == nil || len(m.contents) == 0 {
		if s != "" {
			text(s)
		}
		return
	}
	// next[k] is where contents[k] next occurs at or after pos (-1: never
	// again): each content is searched for once per occurrence, not once per
	// match of any token.
	next := make([]int, len(m.contents))
	for k, c := range m.contents {
		next[k] = strings.Index(s, c)
	}
	pos := 0
	for {
		best := -1
		for k, at := range next {
			if at < 0 {
				continue
			}
			if best < 0 || at < next[best] || (at == next[best] && len(m.contents[k]) > len(m.contents[best])) {
				best = k
			}
		}
		if best < 0 {
			break
		}
		start := next[best]
		if start > pos {
			text(s[pos:start])
		}
		token(m.ids[best])
		pos = start + len(m.contents[best])
		for k, at := range next {
			if at >= 0 && at < pos {
				if i := strings.Index(s[pos:], m.contents[k]); i >= 0 {
					next[k] = pos + i
				} else {
					next[k] = -1
				}
			}
		}
	}
	if pos < len(s) {
		text(s[pos:])
	}
}

func (m *addedMatcher) add(content string, id int32) {
	m.contents = append(m.contents, content)
	m.ids = append(m.ids, id)
}

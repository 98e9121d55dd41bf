package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// component is any normalizer, pre-tokenizer or post-processor of
// tokenizer.json; type says which fields mean something.
type component struct {
	Type          string            `json:"type"`
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	// Prepend
	Prepend string `json:"prepend"`
	// Replace, Split
	Pattern *struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"`
	Content  string `json:"content"`
	Behavior string `json:"behavior"`
	Invert   bool   `json:"invert"`
	// ByteLevel, Metaspace
	AddPrefixSpace *bool `json:"add_prefix_space"`
	UseRegex       *bool `json:"use_regex"`
	// Metaspace
	Replacement   string `json:"replacement"`
	PrependScheme string `json:"prepend_scheme"`
	Split         *bool  `json:"split"`
	// TemplateProcessing
	Single        []map[string]struct{ ID string } `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

func parseComponent(raw json.RawMessage) (*component, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (b *builder) parseNormalizer(raw json.RawMessage) error {
	c, err := parseComponent(raw)
	if err != nil || c == nil {
		return b.wrap("normalizer", err)
	}
	switch c.Type {
	case "Sequence":
		for _, n := range c.Normalizers {
			if err := b.parseNormalizer(n); err != nil {
				return err
			}
		}
	case "NFC":
		b.normalizers = append(b.normalizers, norm.NFC.String)
		b.describe = append(b.describe, "NFC")
	case "Prepend":
		p := c.Prepend
		b.normalizers = append(b.normalizers, func(s string) string {
			if s == "" {
				return s
			}
			return p + s
		})
		b.stripSpace = b.stripSpace || p == "▁"
		b.describe = append(b.describe, fmt.Sprintf("prepend %q", p))
	case "Replace":
		if c.Pattern == nil || c.Pattern.String == nil {
			return fmt.Errorf("tokenizer: %s: normalizer Replace of a regex is not supported (only of a string)", b.source)
		}
		from, to := *c.Pattern.String, c.Content
		b.normalizers = append(b.normalizers, func(s string) string { return strings.ReplaceAll(s, from, to) })
		b.describe = append(b.describe, fmt.Sprintf("replace %q with %q", from, to))
	default:
		return fmt.Errorf("tokenizer: %s: normalizer %q is not supported (supported: NFC, Prepend, Replace of a string, Sequence)", b.source, c.Type)
	}
	return nil
}

// parsePreTokenizer reads the pre_tokenizer; first says whether this one
// sees the whole text (Metaspace must).
func (b *builder) parsePreTokenizer(raw json.RawMessage, first bool) error {
	c, err := parseComponent(raw)
	if err != nil || c == nil {
		return b.wrap("pre_tokenizer", err)
	}
	switch c.Type {
	case "Sequence":
		for i, p := range c.Pretokenizers {
			if err := b.parsePreTokenizer(p, first && i == 0); err != nil {
				return err
			}
		}
	case "ByteLevel":
		b.kind = ByteLevel
		step := byteLevelStep{prefixSpace: c.AddPrefixSpace == nil || *c.AddPrefixSpace}
		if c.UseRegex == nil || *c.UseRegex {
			step.split = splitGPT2
			b.describe = append(b.describe, "GPT-2 split")
		}
		b.steps = append(b.steps, step)
	case "Split":
		if c.Pattern == nil || c.Pattern.Regex == nil {
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Split on a string is not supported (only the GPT-2, LLaMA-3 and Qwen2 regexes)", b.source)
		}
		split, ok := splitters[*c.Pattern.Regex]
		if !ok {
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Split pattern %q is not supported (only the GPT-2, LLaMA-3 and Qwen2 regexes)", b.source, *c.Pattern.Regex)
		}
		if c.Behavior != "Isolated" || c.Invert {
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Split with behavior %q, invert %v is not supported (only Isolated, not inverted)", b.source, c.Behavior, c.Invert)
		}
		b.steps = append(b.steps, splitStep{split})
		b.describe = append(b.describe, patternNames[*c.Pattern.Regex]+" split")
	case "Metaspace":
		if !first {
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Metaspace after another pre-tokenizer is not supported", b.source)
		}
		step := metaspaceStep{replacement: c.Replacement, split: c.Split == nil || *c.Split}
		switch c.PrependScheme {
		case "always", "first": // the same here: added tokens are not split out of the text
			step.prepend = true
		case "never":
		case "":
			step.prepend = c.AddPrefixSpace == nil || *c.AddPrefixSpace
		default:
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Metaspace prepend_scheme %q is unknown (always, first, never)", b.source, c.PrependScheme)
		}
		if c.Replacement == "" {
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Metaspace has no replacement", b.source)
		}
		b.stripSpace = b.stripSpace || (step.prepend && c.Replacement == "▁")
		b.steps = append(b.steps, step)
		b.describe = append(b.describe, fmt.Sprintf("Metaspace %q (prepend %v, split %v)", c.Replacement, step.prepend, step.split))
	default:
		return fmt.Errorf("tokenizer: %s: pre_tokenizer %q is not supported (supported: ByteLevel, Split with the GPT-2, LLaMA-3 or Qwen2 regex, Metaspace, Sequence)", b.source, c.Type)
	}
	return nil
}

// patternNames names the supported split patterns.
var patternNames = map[string]string{GPT2Pattern: "GPT-2", Llama3Pattern: "LLaMA-3", Qwen2Pattern: "Qwen2"}

// templateBOS is the token a post-processor puts before the text.
type templateBOS struct {
	token string
	id    int
	ok    bool
}

func (b *builder) parsePostProcessor(raw json.RawMessage) (templateBOS, error) {
	c, err := parseComponent(raw)
	if err != nil || c == nil {
		return templateBOS{}, b.wrap("post_processor", err)
	}
	switch c.Type {
	case "ByteLevel": // trims offsets only
		return templateBOS{}, nil
	case "Sequence":
		var bos templateBOS
		for _, p := range c.Processors {
			t, err := b.parsePostProcessor(p)
			if err != nil {
				return bos, err
			}
			if t.ok {
				if bos.ok {
					return bos, fmt.Errorf("tokenizer: %s: post_processor adds two tokens before the text", b.source)
				}
				bos = t
			}
		}
		return bos, nil
	case "TemplateProcessing":
		var bos templateBOS
		seenText := false
		for _, item := range c.Single {
			if _, ok := item["Sequence"]; ok {
				seenText = true
				continue
			}
			sp, ok := item["SpecialToken"]
			switch {
			case !ok:
				return bos, fmt.Errorf("tokenizer: %s: post_processor template item %v is not understood", b.source, item)
			case seenText:
				return bos, fmt.Errorf("tokenizer: %s: post_processor adds %q after the text, which is not supported (only a token before it)", b.source, sp.ID)
			case bos.ok:
				return bos, fmt.Errorf("tokenizer: %s: post_processor adds two tokens before the text, which is not supported", b.source)
			}
			ids := c.SpecialTokens[sp.ID].IDs
			if len(ids) != 1 {
				return bos, fmt.Errorf("tokenizer: %s: post_processor special token %q has ids %v, want one", b.source, sp.ID, ids)
			}
			bos = templateBOS{token: sp.ID, id: ids[0], ok: true}
		}
		return bos, nil
	}
	return templateBOS{}, fmt.Errorf("tokenizer: %s: post_processor %q is not supported (supported: TemplateProcessing, ByteLevel, Sequence)", b.source, c.Type)
}

func (b *builder) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("tokenizer: %s: %s: %w", b.source, what, err)
}

package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// config is what tokenizer_config.json and special_tokens_map.json say
// about the BOS token and the leading space.
type config struct {
	file           string
	addBOS, addEOS *bool
	bosSet         bool    // bos_token is given (possibly null)
	bos            *string // nil: null
	addPrefixSpace *bool
}

// readConfig reads dir's tokenizer_config.json and special_tokens_map.json
// (either may be missing).
func readConfig(dir string) (config, error) {
	var cfg config
	for _, name := range []string{configJSON, specialTokensMap} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		data, err := readFile(p)
		if err != nil {
			return cfg, err
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return cfg, fmt.Errorf("tokenizer: %s: %w", p, err)
		}
		if cfg.file == "" {
			cfg.file = p
		}
		for key, dst := range map[string]**bool{"add_bos_token": &cfg.addBOS, "add_eos_token": &cfg.addEOS, "add_prefix_space": &cfg.addPrefixSpace} {
			if v, ok := raw[key]; ok && *dst == nil {
				if err := json.Unmarshal(v, dst); err != nil {
					return cfg, fmt.Errorf("tokenizer: %s: %s: %w", p, key, err)
				}
			}
		}
		if v, ok := raw["bos_token"]; ok && !cfg.bosSet {
			tok, err := tokenContent(v)
			if err != nil {
				return cfg, fmt.Errorf("tokenizer: %s: bos_token: %w", p, err)
			}
			cfg.bosSet, cfg.bos = true, tok
		}
	}
	return cfg, nil
}

// tokenContent reads a token setting: "<s>", {"content": "<s>", ...} or null.
func tokenContent(raw json.RawMessage) (*string, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return &s, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Content == nil {
		return nil, fmt.Errorf("%s is neither a token string nor an object with content", raw)
	}
	return obj.Content, nil
}

// gpt2EndOfText is GPT-2's only special token, its BOS and EOS alike (and
// GPT-NeoX's, and Qwen2's end of text); the BOS of a byte-level tokenizer
// whose files name none.
const gpt2EndOfText = "<|endoftext|>"

// decideBOS follows transformers: tokenizer_config.json's add_bos_token and
// bos_token when given, else the post-processor's template; without either,
// a byte-level tokenizer's BOS is <|endoftext|> (GPT-2's convention), not
// added.
func (b *builder) decideBOS(cfg config, tmpl templateBOS) error {
	name, named := "", false
	switch {
	case cfg.bosSet && cfg.bos != nil:
		name, named = *cfg.bos, true
	case cfg.bosSet:
		// bos_token: null, as Qwen2 says: no BOS.
	case tmpl.ok:
		name, named = tmpl.token, true
	default:
		if _, ok := b.id(gpt2EndOfText); ok && b.kind == ByteLevel {
			name, named = gpt2EndOfText, true
		}
	}
	if named {
		id, ok := b.id(name)
		if !ok {
			return fmt.Errorf("tokenizer: %s: the BOS token %q is not in the vocabulary", b.source, name)
		}
		b.bos = id
	}
	switch {
	case cfg.addBOS != nil:
		b.addsBOS = *cfg.addBOS
	default:
		b.addsBOS = tmpl.ok
	}
	if tmpl.ok && b.bos >= 0 && b.addsBOS && cfg.addBOS == nil && int(b.bos) != tmpl.id {
		return fmt.Errorf("tokenizer: %s: the post-processor adds id %d but the BOS token %q is id %d", b.source, tmpl.id, b.tokens[b.bos], b.bos)
	}
	if b.addsBOS && b.bos < 0 {
		return fmt.Errorf("tokenizer: %s: a BOS is to be added (add_bos_token or the post-processor) but bos_token is null", b.source)
	}
	return nil
}

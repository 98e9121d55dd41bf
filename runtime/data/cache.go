package data

import (
	"encoding/json"
	"path/filepath"
	"sync"

	"github.com/sinkrun/sinkrun/config"
)

// Cache loads each corpus once per process and shares it between the runs
// that use it. Corpora are keyed by the corpus settings, the tokenizer, the
// separator and, for corpora of files, the absolute base directory; runs
// that differ only in context, holdout, first or fixed token, random span or
// unique-token budget share one stream. Concurrent Loads of the
// same corpus wait for a single read. Errors are cached too. The zero value
// is ready to use; a Cache must not be copied after first use.
type Cache struct {
	mu sync.Mutex
	m  map[string]*cacheEntry
}

// NewCache returns an empty Cache.
func NewCache() *Cache { return &Cache{} }

type cacheEntry struct {
	once sync.Once
	c    *corpus
	err  error
}

// Load is Load through the cache.
func (c *Cache) Load(cfg config.Data, baseDir string) (*Dataset, error) {
	key := cacheKey(cfg, baseDir)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*cacheEntry{}
	}
	e := c.m[key]
	if e == nil {
		e = &cacheEntry{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.c, e.err = loadCorpus(cfg, baseDir) })
	if e.err != nil {
		return nil, e.err
	}
	return newDataset(cfg, e.c)
}

func cacheKey(cfg config.Data, baseDir string) string {
	type key struct {
		Corpus    config.Corpus
		Tokenizer config.Tokenizer
		Separator int
		BaseDir   string
	}
	k := key{Corpus: cfg.Corpus, Tokenizer: cfg.Tokenizer, Separator: separatorID(cfg)}
	switch {
	case cfg.Corpus.Kind == "files", cfg.Corpus.Kind == "jsonl", cfg.Corpus.Kind == "tokens", cfg.Tokenizer.Kind == "bpe":
		if abs, err := filepath.Abs(baseDir); err == nil {
			baseDir = abs
		}
		k.BaseDir = baseDir
	}
	b, _ := json.Marshal(k)
	return string(b)
}

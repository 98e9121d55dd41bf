package compiler

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/dsl"
	"github.com/sinkrun/sinkrun/formats/hf"
	"github.com/sinkrun/sinkrun/formats/pretrained"
)

// checkpointInfo is what opening one checkpoint directory gave.
type checkpointInfo struct {
	arch        hf.Arch
	model       config.Model // the sinkrun model that computes what the checkpoint computes
	fingerprint string       // see fingerprint
	err         error
}

// openCheckpoint opens the checkpoint at dir (absolute or relative to the
// working directory) once per compile: config.json and every safetensors
// header, validated against the architecture; no weight is read.
func (c *compiler) openCheckpoint(dir string) checkpointInfo {
	if c.checkpoints == nil {
		c.checkpoints = map[string]checkpointInfo{}
	}
	if r, ok := c.checkpoints[dir]; ok {
		return r
	}
	r := readCheckpoint(dir)
	c.checkpoints[dir] = r
	return r
}

func readCheckpoint(dir string) checkpointInfo {
	ck, err := hf.Open(dir)
	if err != nil {
		return checkpointInfo{err: withDirHint(err, dir)}
	}
	defer ck.Close()
	r := checkpointInfo{arch: ck.Arch}
	if r.model, err = pretrained.ModelFromArch(ck.Arch); err != nil {
		r.err = fmt.Errorf("checkpoint %s: %w", dir, err)
		return r
	}
	if r.fingerprint, err = fingerprint(dir, ck.Files()); err != nil {
		r.err = fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	return r
}

// withDirHint adds a did-you-mean to the error of a checkpoint directory
// that does not exist, from its parent directory's entries.
func withDirHint(err error, dir string) error {
	if _, serr := os.Stat(dir); !errors.Is(serr, fs.ErrNotExist) {
		return err
	}
	entries, rerr := os.ReadDir(filepath.Dir(dir))
	if rerr != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if hint := didYouMean(filepath.Base(dir), names); hint != "" {
		return fmt.Errorf("%w%s", err, hint)
	}
	return err
}

// maxHeader bounds the safetensors header the fingerprint reads (hf.Open
// has validated it already; this only guards the read).
const maxHeader = 100 << 20

// fingerprint identifies a checkpoint without reading its weights: the
// SHA-256 of config.json, the shard index (if any), and each weight file's
// name, size and safetensors header (tensor names, dtypes, shapes,
// offsets). A checkpoint replaced on disk (another model, another training
// step, another dtype or sharding) changes it; the directory's name and
// location do not.
func fingerprint(dir string, weightFiles []string) (string, error) {
	h := sha256.New()
	for _, name := range []string{hf.ConfigFile, hf.IndexFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) && name == hf.IndexFile {
			continue
		}
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	files := append([]string(nil), weightFiles...)
	sort.Strings(files)
	for _, path := range files {
		if err := hashHeader(h, path); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashHeader writes a safetensors file's name, size and header to h.
func hashHeader(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var n uint64
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil {
		return fmt.Errorf("%s: reading the header length: %w", path, err)
	}
	if n > maxHeader {
		return fmt.Errorf("%s: header of %d bytes is too long", path, n)
	}
	fmt.Fprintf(h, "%s %d %d\n", filepath.Base(path), st.Size(), n)
	if _, err := io.CopyN(h, f, int64(n)); err != nil {
		return fmt.Errorf("%s: reading the header: %w", path, err)
	}
	return nil
}

// resolveCheckpoint makes a run's model the checkpoint's: every model
// setting from its config.json (any other written is an error at its
// position), the fingerprint, train.steps 0 and the checkpoint's tokenizer
// unless set. It returns the checkpoint's architecture, if it could be read.
func (c *compiler) resolveCheckpoint(r *config.Run, origins map[string]origin, es *expState) (hf.Arch, bool) {
	m := &r.Model
	if !m.FromCheckpoint() {
		return hf.Arch{}, false
	}
	ckOrigin := origins["model.checkpoint"]
	var written []string
	for p := range origins {
		if !strings.HasPrefix(p, "model.") || p == "model.checkpoint" {
			continue
		}
		// An argument of a value written too is reported with it.
		if parent := p[:strings.LastIndex(p, ".")]; parent != "model" {
			if _, written := origins[parent]; written {
				continue
			}
		}
		written = append(written, p)
	}
	sort.Strings(written)
	for _, p := range written {
		c.errorf(origins[p].pos, "%s comes from the checkpoint's config.json (model.checkpoint at %s); remove it", p, ckOrigin.pos)
	}
	info := c.openCheckpoint(c.settingPath(m.Checkpoint, "model.checkpoint", origins, es))
	if info.err != nil {
		c.errorf(ckOrigin.pos, "model.checkpoint: %v", info.err)
		return hf.Arch{}, false
	}
	path := m.Checkpoint
	*m = info.model
	m.Checkpoint, m.CheckpointSHA256 = path, info.fingerprint
	derived := ckOrigin
	derived.derived = true
	for _, p := range allPaths() {
		if strings.HasPrefix(p, "model.") && p != "model.checkpoint" {
			origins[p] = derived // a rule the model breaks points at the checkpoint
		}
	}
	if _, set := origins["train.steps"]; !set {
		r.Train.Steps = 0 // measure the checkpoint as it is
	}
	_, kindSet := origins["data.tokenizer"]
	if _, pathSet := origins["data.tokenizer.path"]; !kindSet && !pathSet {
		r.Data.Tokenizer = config.Tokenizer{Kind: "bpe", Path: path}
		origins["data.tokenizer"], origins["data.tokenizer.path"] = derived, derived
	}
	return info.arch, true
}

// checkCheckpointData checks the data against a checkpoint's architecture:
// the tokenizer's ids fit its vocabulary, and the sequences its positions
// (and sliding window). It returns the settings whose config.Validate
// violations say the same again (the model's vocabulary, its position
// table), to leave out.
func (c *compiler) checkCheckpointData(r *config.Run, arch hf.Arch, tok tokenizerInfo, haveTok bool, origins map[string]origin, at func(...string) dsl.Pos) (said map[string]bool) {
	said = map[string]bool{}
	if haveTok {
		if err := tok.tok.CheckVocab(arch.Vocab); err != nil {
			c.errorf(at("data.tokenizer.path", "data.tokenizer"), "%s: %v", tokenizerSetting(origins), err)
			said["model.vocab"] = true
		}
	}
	if err := arch.CheckSequence(r.Measure.ProbeLength); err != nil {
		c.errorf(at("measure.probe_length", "model.checkpoint"), "measure.probe_length (%d): %v", r.Measure.ProbeLength, err)
		said["model.position.length"] = true
	} else if err := arch.CheckSequence(r.Data.Context); err != nil {
		c.errorf(at("data.context", "model.checkpoint"), "data.context (%d): %v", r.Data.Context, err)
		said["model.position.length"] = true
	}
	return said
}

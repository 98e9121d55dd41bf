// Package atomicfile creates and replaces files atomically: the contents go
// to a hidden temporary file in the target's directory, named
// ".<name>.<random>.tmp", which is synced and then renamed over the target.
// A reader sees the old file or the complete new one, never a partial file,
// and a crash leaves at worst a stray temporary file, which globs such as
// "*.parquet" skip.
//
// (github.com/google/renameio does the same, but names its temporary files
// ".<name><random>" without the ".tmp" suffix that our documentation and the
// batch runner's clean-up rely on, and leaves the directory unsynced.)
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Write creates or replaces path with what write writes, with permissions
// perm (set explicitly, so the umask does not narrow them). The directory
// must exist. write gets a plain io.Writer: the file cannot be closed
// behind Write's back (some encoders close an io.Closer they are given). On
// any error the temporary file is removed and path is left as it was.
func Write(path string, perm fs.FileMode, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(struct{ io.Writer }{f}); err != nil {
		return err
	}
	// CreateTemp makes the file private (0600).
	if err := f.Chmod(perm); err != nil {
		return err
	}
	// Without the sync, a crash soon after the rename can leave an empty
	// file under the final name on some file systems.
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Best effort: the new file is complete either way; this only makes the
	// rename itself survive a crash.
	SyncDir(dir)
	return nil
}

// RemoveTemps removes the temporary files that writes of path interrupted
// by a crash left behind. Only call it while nothing is writing path: a
// write in flight would lose its temporary file.
func RemoveTemps(path string) error {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+"."
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if name := e.Name(); strings.HasPrefix(name, prefix) && strings.HasSuffix(name, ".tmp") && !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// WriteFile creates or replaces path with data (see Write).
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SyncDir flushes dir's entries to disk, so that a rename in it survives a
// crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	if cerr := d.Close(); serr == nil {
		serr = cerr
	}
	if serr != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, serr)
	}
	return nil
}

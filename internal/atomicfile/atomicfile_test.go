package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	errWrite := errors.New("encoder failed")
	for _, tc := range []struct {
		name     string
		old      string // "" : no file before
		perm     fs.FileMode
		write    string
		fail     error // returned by the write function
		wantErr  bool
		wantBody string
	}{
		{name: "create", perm: 0o644, write: "new\n", wantBody: "new\n"},
		{name: "create private", perm: 0o600, write: "x", wantBody: "x"},
		{name: "replace", old: "old\n", perm: 0o640, write: "new\n", wantBody: "new\n"},
		{name: "replace with nothing", old: "old\n", perm: 0o644, write: "", wantBody: ""},
		{name: "failed write keeps the old file", old: "old\n", perm: 0o644, write: "par", fail: errWrite, wantErr: true, wantBody: "old\n"},
		{name: "failed write creates nothing", perm: 0o644, write: "par", fail: errWrite, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.parquet")
			if tc.old != "" {
				if err := os.WriteFile(path, []byte(tc.old), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var temps []string
			err := Write(path, tc.perm, func(w io.Writer) error {
				if _, ok := w.(io.Closer); ok {
					t.Error("the writer can be closed")
				}
				temps, _ = filepath.Glob(filepath.Join(dir, ".f.parquet.*.tmp"))
				if _, err := io.WriteString(w, tc.write); err != nil {
					return err
				}
				return tc.fail
			})
			if (err != nil) != tc.wantErr || (tc.fail != nil && !errors.Is(err, tc.fail)) {
				t.Fatalf("Write: %v, want error %v", err, tc.wantErr)
			}
			if len(temps) != 1 {
				t.Errorf("temporary files while writing: %v, want one .f.parquet.*.tmp", temps)
			}
			entries, _ := os.ReadDir(dir)
			if tc.wantErr && tc.old == "" {
				if len(entries) != 0 {
					t.Errorf("files after a failed write: %v", entries)
				}
				return
			}
			if len(entries) != 1 {
				t.Errorf("files after Write: %v, want only f.parquet", entries)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tc.wantBody {
				t.Errorf("contents %q (%v), want %q", got, err, tc.wantBody)
			}
			st, _ := os.Stat(path)
			wantPerm := tc.perm
			if tc.wantErr {
				wantPerm = 0o600 // the old file's
			}
			if st.Mode().Perm() != wantPerm {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), wantPerm)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.sink")
	if err := WriteFile(path, []byte("experiment a {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "experiment a {}\n" {
		t.Errorf("contents %q", got)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "a.sink"), nil, 0o644); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("write into a missing directory: %v", err)
	}
	if err := SyncDir(dir); err != nil {
		t.Errorf("SyncDir: %v", err)
	}
	if err := SyncDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("SyncDir of a missing directory succeeded")
	}
}

// RemoveTemps removes what interrupted writes of one file left, and nothing
// else.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run-a.parquet")
	keep := []string{"run-a.parquet", "run-ab.parquet", ".run-ab.parquet.123.tmp", ".run-a.parquet.123.part", "run-a.parquet.123.tmp"}
	gone := []string{".run-a.parquet.123.tmp", ".run-a.parquet.4567.tmp"}
	for _, n := range append(keep, gone...) {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveTemps(path); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	slices.Sort(keep)
	if !slices.Equal(left, keep) {
		t.Errorf("left %v, want %v", left, keep)
	}
	if err := RemoveTemps(filepath.Join(dir, "missing", "x.parquet")); err != nil {
		t.Errorf("RemoveTemps in a missing directory: %v", err)
	}
}

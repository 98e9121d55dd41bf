package hf

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// SafetensorsWriter streams tensors into a new safetensors file. All tensors
// are declared when the file is created (the header, which holds every
// offset, comes first); their data is then written one at a time, in the
// declared order, so no more than one tensor is ever held in memory.
// The file appears at its path only when Close succeeds.
type SafetensorsWriter struct {
	path    string
	tmp     *os.File
	out     *bufio.Writer
	tensors []TensorInfo
	next    int
	buf     []byte
}

// CreateSafetensors declares the file's tensors (Name, DType, Shape; offsets
// are computed here) and writes its header. metadata may be nil; the
// "format": "pt" entry that transformers expects is always added.
func CreateSafetensors(path string, tensors []TensorInfo, metadata map[string]string) (*SafetensorsWriter, error) {
	header := map[string]any{}
	meta := map[string]string{"format": "pt"}
	for k, v := range metadata {
		meta[k] = v
	}
	header["__metadata__"] = meta
	infos := slices.Clone(tensors)
	var at int64
	for i := range infos {
		t := &infos[i]
		if !t.DType.IsFloat() {
			return nil, fmt.Errorf("%s: tensor %q: cannot write dtype %q", path, t.Name, t.DType)
		}
		if _, dup := header[t.Name]; dup || t.Name == "" {
			return nil, fmt.Errorf("%s: tensor name %q empty or declared twice", path, t.Name)
		}
		t.Begin = at
		t.End = at + t.Elements()*int64(t.DType.Size())
		at = t.End
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = map[string]any{"dtype": t.DType, "shape": shape, "data_offsets": []int64{t.Begin, t.End}}
	}
	js, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding header: %w", path, err)
	}
	for len(js)%8 != 0 { // keeps the data 8-byte aligned, as the Python writer does
		js = append(js, ' ')
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".safetensors-*.tmp")
	if err != nil {
		return nil, err
	}
	w := &SafetensorsWriter{path: path, tmp: tmp, out: bufio.NewWriterSize(tmp, 1<<20), tensors: infos}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	w.out.Write(lenBuf[:])
	if _, err := w.out.Write(js); err != nil {
		w.Abort()
		return nil, fmt.Errorf("%s: writing header: %w", path, err)
	}
	return w, nil
}

// Write stores the next declared tensor's data, converted to its dtype.
func (w *SafetensorsWriter) Write(name string, data []float32) error {
	if w.next >= len(w.tensors) {
		return fmt.Errorf("%s: tensor %q written but all %d declared tensors are written", w.path, name, len(w.tensors))
	}
	t := w.tensors[w.next]
	if t.Name != name {
		return fmt.Errorf("%s: tensor %q written out of order: %q comes next", w.path, name, t.Name)
	}
	if int64(len(data)) != t.Elements() {
		return fmt.Errorf("%s: tensor %q: %d values, shape %s needs %d", w.path, name, len(data), shapeString(t.Shape), t.Elements())
	}
	size := t.DType.Size()
	chunk := readChunkBytes / size
	if cap(w.buf) < chunk*size {
		w.buf = make([]byte, chunk*size)
	}
	for done := 0; done < len(data); done += chunk {
		part := data[done:min(done+chunk, len(data))]
		raw := w.buf[:len(part)*size]
		encode(t.DType, part, raw)
		if _, err := w.out.Write(raw); err != nil {
			return fmt.Errorf("%s: tensor %q: %w", w.path, name, err)
		}
	}
	w.next++
	return nil
}

// Close checks every declared tensor was written, then moves the file into
// place.
func (w *SafetensorsWriter) Close() error {
	if w.next != len(w.tensors) {
		missing := w.tensors[w.next].Name
		w.Abort()
		return fmt.Errorf("%s: closed with %d of %d tensors written (next: %q)", w.path, w.next, len(w.tensors), missing)
	}
	err := w.out.Flush()
	if err == nil {
		err = w.tmp.Sync()
	}
	if cerr := w.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp.Name(), w.path)
	}
	if err != nil {
		os.Remove(w.tmp.Name())
		return fmt.Errorf("%s: %w", w.path, err)
	}
	return nil
}

// Abort discards the partly written file.
func (w *SafetensorsWriter) Abort() {
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

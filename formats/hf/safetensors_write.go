package hf

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/sinkrun/sinkrun/internal/atomicfile"
)

// PutFunc stores the data of the next declared tensor.
type PutFunc func(name string, data []float32) error

// WriteSafetensors writes a safetensors file whose tensors (Name, DType,
// Shape; offsets are computed here) are declared up front, because the
// header that holds every offset comes first. fill then hands over each
// tensor's data through put, in the declared order, so no more than one
// tensor need be in memory. metadata may be nil; the "format": "pt" entry
// that transformers expects is always added. The file is replaced
// atomically (internal/atomicfile): on any error, path is left as it was.
func WriteSafetensors(path string, tensors []TensorInfo, metadata map[string]string, fill func(put PutFunc) error) error {
	infos, header, err := buildHeader(path, tensors, metadata)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(f io.Writer) error {
		out := bufio.NewWriterSize(f, 1<<20)
		out.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(header))))
		if _, err := out.Write(header); err != nil {
			return fmt.Errorf("%s: writing header: %w", path, err)
		}
		tw := &tensorWriter{path: path, out: out, tensors: infos}
		if err := fill(tw.put); err != nil {
			return err
		}
		if tw.next != len(infos) {
			return fmt.Errorf("%s: %d of %d tensors written (next: %q)", path, tw.next, len(infos), infos[tw.next].Name)
		}
		return out.Flush()
	})
}

// buildHeader computes the offsets and the JSON header, padded with spaces
// to a multiple of 8 bytes so the data stays aligned, as the Python writer
// does.
func buildHeader(path string, tensors []TensorInfo, metadata map[string]string) ([]TensorInfo, []byte, error) {
	meta := map[string]string{"format": "pt"}
	for k, v := range metadata {
		meta[k] = v
	}
	header := map[string]any{"__metadata__": meta}
	infos := slices.Clone(tensors)
	var at int64
	for i := range infos {
		t := &infos[i]
		if !t.DType.IsFloat() {
			return nil, nil, fmt.Errorf("%s: tensor %q: cannot write dtype %q", path, t.Name, t.DType)
		}
		if _, dup := header[t.Name]; dup || t.Name == "" {
			return nil, nil, fmt.Errorf("%s: tensor name %q empty or declared twice", path, t.Name)
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
		return nil, nil, fmt.Errorf("%s: encoding header: %w", path, err)
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	return infos, js, nil
}

// tensorWriter converts and appends the declared tensors in order.
type tensorWriter struct {
	path    string
	out     *bufio.Writer
	tensors []TensorInfo
	next    int
	buf     []byte
}

func (w *tensorWriter) put(name string, data []float32) error {
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

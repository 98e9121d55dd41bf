package hf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
)

// maxHeaderBytes bounds the JSON header, as the reference safetensors
// implementation does (100 MB), so a lying length cannot exhaust memory.
const maxHeaderBytes = 100_000_000

// readChunkBytes is the size of the buffer a tensor is streamed through while
// it is converted to float32.
const readChunkBytes = 1 << 20

// Tensor is a dense row-major float32 array.
type Tensor struct {
	Shape []int
	Data  []float32
}

// TensorInfo is one tensor's entry in a safetensors header. Begin and End are
// byte offsets into the data section, which starts after the header.
type TensorInfo struct {
	Name       string
	DType      DType
	Shape      []int
	Begin, End int64
}

// Elements is the product of the shape (1 for a scalar).
func (t TensorInfo) Elements() int64 { return numElements(t.Shape) }

// SafetensorsFile is an open safetensors file whose header has been
// validated; tensors are read one at a time, on demand.
type SafetensorsFile struct {
	Path     string
	Metadata map[string]string
	tensors  map[string]TensorInfo
	file     *os.File
	dataAt   int64 // file offset of the data section
}

// OpenSafetensors opens path and validates its header against the file:
// header length, JSON shape, known dtypes, every tensor's size against its
// dtype and shape, and that the tensors tile the data section exactly
// (in order of offset, without gaps or overlaps, up to the end of the file).
func OpenSafetensors(path string) (*SafetensorsFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	sf, err := parseHeader(path, f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	sf.file = f
	return sf, nil
}

func parseHeader(path string, r io.ReaderAt, fileSize int64) (*SafetensorsFile, error) {
	var lenBuf [8]byte
	if fileSize < 8 {
		return nil, fmt.Errorf("%s: not a safetensors file: %d bytes, shorter than the 8-byte header length", path, fileSize)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("%s: reading header length: %w", path, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxHeaderBytes {
		return nil, fmt.Errorf("%s: header length %d exceeds the %d-byte limit (not a safetensors file, or corrupt)", path, n, maxHeaderBytes)
	}
	if int64(n) > fileSize-8 {
		return nil, fmt.Errorf("%s: header length %d runs past the end of the file (%d bytes): file truncated or corrupt", path, n, fileSize)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, fmt.Errorf("%s: reading header: %w", path, err)
	}
	if trimmed := bytes.TrimLeft(hdr, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%s: header is not a JSON object", path)
	}
	var entries map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("%s: header is not valid JSON: %w", path, err)
	}
	if rest := bytes.TrimRight(hdr[dec.InputOffset():], " \t\r\n"); len(rest) != 0 {
		return nil, fmt.Errorf("%s: header has trailing bytes after its JSON object", path)
	}
	sf := &SafetensorsFile{Path: path, tensors: map[string]TensorInfo{}, dataAt: 8 + int64(n)}
	for name, raw := range entries {
		if name == "__metadata__" {
			if err := json.Unmarshal(raw, &sf.Metadata); err != nil {
				return nil, fmt.Errorf("%s: __metadata__ must map strings to strings: %w", path, err)
			}
			continue
		}
		info, err := parseTensorEntry(name, raw)
		if err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %w", path, name, err)
		}
		sf.tensors[name] = info
	}
	if err := checkLayout(sf, fileSize-sf.dataAt); err != nil {
		return nil, err
	}
	return sf, nil
}

func parseTensorEntry(name string, raw json.RawMessage) (TensorInfo, error) {
	var e struct {
		DType   *string  `json:"dtype"`
		Shape   *[]int64 `json:"shape"`
		Offsets *[]int64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return TensorInfo{}, fmt.Errorf("bad header entry: %w", err)
	}
	if e.DType == nil || e.Shape == nil || e.Offsets == nil {
		return TensorInfo{}, errors.New("header entry needs dtype, shape and data_offsets")
	}
	dt := DType(*e.DType)
	if dt.Size() == 0 {
		return TensorInfo{}, fmt.Errorf("unknown dtype %q", *e.DType)
	}
	if len(*e.Offsets) != 2 {
		return TensorInfo{}, fmt.Errorf("data_offsets has %d values, want [begin, end]", len(*e.Offsets))
	}
	begin, end := (*e.Offsets)[0], (*e.Offsets)[1]
	if begin < 0 || end < begin {
		return TensorInfo{}, fmt.Errorf("data_offsets [%d, %d] are not an increasing pair of byte offsets", begin, end)
	}
	shape := make([]int, len(*e.Shape))
	elems := int64(1)
	for i, d := range *e.Shape {
		if d < 0 {
			return TensorInfo{}, fmt.Errorf("negative dimension in shape %v", *e.Shape)
		}
		if d != 0 && elems > math.MaxInt64/8/d {
			return TensorInfo{}, fmt.Errorf("shape %v is too large", *e.Shape)
		}
		elems *= d
		shape[i] = int(d)
	}
	if want := elems * int64(dt.Size()); end-begin != want {
		return TensorInfo{}, fmt.Errorf("data_offsets [%d, %d] hold %d bytes, but %s %s needs %d", begin, end, end-begin, dt, shapeString(shape), want)
	}
	return TensorInfo{Name: name, DType: dt, Shape: shape, Begin: begin, End: end}, nil
}

// checkLayout requires the tensors to cover the data section exactly, as
// the reference implementation does: sorted by offset, each starts where
// the previous ended, and the last ends at the end of the file.
func checkLayout(sf *SafetensorsFile, dataLen int64) error {
	infos := make([]TensorInfo, 0, len(sf.tensors))
	for _, t := range sf.tensors {
		infos = append(infos, t)
	}
	sort.Slice(infos, func(i, j int) bool {
		if infos[i].Begin != infos[j].Begin {
			return infos[i].Begin < infos[j].Begin
		}
		return infos[i].End < infos[j].End
	})
	var at int64
	prev := ""
	for _, t := range infos {
		switch {
		case t.Begin < at:
			return fmt.Errorf("%s: tensor %q: data_offsets [%d, %d] overlap tensor %q (which ends at %d)", sf.Path, t.Name, t.Begin, t.End, prev, at)
		case t.Begin > at:
			return fmt.Errorf("%s: tensor %q: data_offsets start at %d, leaving a gap after byte %d", sf.Path, t.Name, t.Begin, at)
		}
		if t.End > dataLen {
			return fmt.Errorf("%s: tensor %q: data_offsets [%d, %d] run past the end of the data (%d bytes): file truncated or header wrong", sf.Path, t.Name, t.Begin, t.End, dataLen)
		}
		at, prev = t.End, t.Name
	}
	if at != dataLen {
		return fmt.Errorf("%s: %d bytes of data after the last tensor: header does not describe the whole file", sf.Path, dataLen-at)
	}
	return nil
}

// Close releases the file.
func (sf *SafetensorsFile) Close() error { return sf.file.Close() }

// Names lists the tensors, sorted.
func (sf *SafetensorsFile) Names() []string {
	names := make([]string, 0, len(sf.tensors))
	for n := range sf.tensors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Info returns a tensor's header entry.
func (sf *SafetensorsFile) Info(name string) (TensorInfo, bool) {
	t, ok := sf.tensors[name]
	return t, ok
}

// Read loads one tensor, converted to float32.
func (sf *SafetensorsFile) Read(name string) (Tensor, error) {
	info, ok := sf.tensors[name]
	if !ok {
		return Tensor{}, fmt.Errorf("%s: no tensor %q", sf.Path, name)
	}
	t := Tensor{Shape: slices.Clone(info.Shape), Data: make([]float32, info.Elements())}
	return t, sf.ReadInto(name, t.Data)
}

// ReadInto loads one tensor into dst (len = its element count), converting
// F32, F16, BF16 and F64 to float32 through a small buffer.
func (sf *SafetensorsFile) ReadInto(name string, dst []float32) error {
	info, ok := sf.tensors[name]
	if !ok {
		return fmt.Errorf("%s: no tensor %q", sf.Path, name)
	}
	if !info.DType.IsFloat() {
		return fmt.Errorf("%s: tensor %q: dtype %s cannot be read as float32 (supported: F32, F16, BF16, F64)", sf.Path, name, info.DType)
	}
	if int64(len(dst)) != info.Elements() {
		return fmt.Errorf("%s: tensor %q: %d elements, destination holds %d", sf.Path, name, info.Elements(), len(dst))
	}
	size := int64(info.DType.Size())
	perChunk := max(readChunkBytes/size, 1)
	buf := make([]byte, min(perChunk, int64(len(dst)))*size)
	for done := int64(0); done < int64(len(dst)); {
		n := min(perChunk, int64(len(dst))-done)
		raw := buf[:n*size]
		if _, err := sf.file.ReadAt(raw, sf.dataAt+info.Begin+done*size); err != nil {
			return fmt.Errorf("%s: tensor %q: %w", sf.Path, name, err)
		}
		decode(info.DType, raw, dst[done:done+n])
		done += n
	}
	return nil
}

func numElements(shape []int) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= int64(d)
	}
	return n
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

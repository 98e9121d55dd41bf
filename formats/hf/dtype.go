package hf

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DType is a safetensors element type, spelled as in the file header.
type DType string

// The element types sinkrun converts to float32. Other safetensors types are
// known (so a header holding them still validates) but cannot be read.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
)

// dtypeSizes is every safetensors dtype with its element size in bytes.
var dtypeSizes = map[DType]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1,
	"U64": 8, "U32": 4, "U16": 2, "U8": 1,
	"BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
}

// Size is the element size in bytes, 0 for an unknown dtype.
func (d DType) Size() int { return dtypeSizes[d] }

// IsFloat reports whether sinkrun can read the dtype as float32.
func (d DType) IsFloat() bool { return d == F64 || d == F32 || d == F16 || d == BF16 }

// ParseDType accepts the safetensors spellings and the torch_dtype names of
// config.json (float32, float16, bfloat16), for the writer's dtype option.
func ParseDType(s string) (DType, error) {
	switch s {
	case "F32", "f32", "float32", "fp32":
		return F32, nil
	case "F16", "f16", "float16", "fp16":
		return F16, nil
	case "BF16", "bf16", "bfloat16":
		return BF16, nil
	}
	return "", fmt.Errorf("unsupported dtype %q (supported for writing: F32, F16, BF16)", s)
}

// torchName is the config.json torch_dtype of a dtype.
func (d DType) torchName() string {
	switch d {
	case F16:
		return "float16"
	case BF16:
		return "bfloat16"
	case F64:
		return "float64"
	}
	return "float32"
}

// decode converts little-endian raw elements of dtype d into dst.
func decode(d DType, raw []byte, dst []float32) {
	switch d {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		}
	case F16:
		for i := range dst {
			dst[i] = halfToFloat(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	default:
		panic("hf: decode of non-float dtype " + string(d)) // callers check IsFloat first
	}
}

// encode writes src as little-endian elements of dtype d into raw.
func encode(d DType, src []float32, raw []byte) {
	switch d {
	case F32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	case F64:
		for i, v := range src {
			binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(float64(v)))
		}
	case BF16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(raw[2*i:], floatToBF16(v))
		}
	case F16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(raw[2*i:], floatToHalf(v))
		}
	default:
		panic("hf: encode to non-float dtype " + string(d))
	}
}

// floatToBF16 rounds to nearest even, keeping NaN a NaN.
func floatToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// halfToFloat decodes an IEEE 754 binary16 value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: value = mant * 2^-24
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			return -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// floatToHalf rounds to the nearest binary16 (ties to even), with overflow
// to infinity and gradual underflow to subnormals.
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign // rounds to zero
		}
		m := mant | 0x800000 // implicit bit
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // may carry into the exponent, up to infinity: correct rounding
	}
	return sign | uint16(r)
}

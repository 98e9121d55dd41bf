package hf

// ParamCount is the number of parameters (a tied embedding counted once).
func ParamCount(a Arch) int64 {
	var n int64
	for _, s := range CanonicalTensors(a) {
		n += numElements(s.Shape)
	}
	return n
}

// DiskBytes is the size of a's weights stored as dtype (headers aside).
func DiskBytes(a Arch, dtype DType) int64 { return ParamCount(a) * int64(dtype.Size()) }

// Float32Bytes is the memory the weights take once converted to float32.
func Float32Bytes(a Arch) int64 { return ParamCount(a) * 4 }

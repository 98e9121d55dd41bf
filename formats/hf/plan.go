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

// ForwardFLOPs estimates the floating-point operations of one forward pass
// over a sequence of t tokens: 2 per multiply-add of every projection, and
// the causal attention scores and mixing (2 * 2 * head_dim per visible
// query-key pair). logits adds the output projection, which attention and
// hidden-state measurements do not need.
func ForwardFLOPs(a Arch, t int, logits bool) int64 {
	var macs int64
	for _, s := range CanonicalTensors(a) {
		if len(s.Shape) == 2 && s.Name != "tok_embed" && s.Name != "pos_embed" && s.Name != "lm_head.weight" {
			macs += numElements(s.Shape)
		}
	}
	if logits {
		macs += int64(a.DModel) * int64(a.Vocab)
	}
	pairs := int64(t) * int64(t+1) / 2
	if a.SlidingWindow > 0 && t > a.SlidingWindow {
		pairs = int64(t) * int64(a.SlidingWindow)
	}
	attn := 2 * 2 * int64(a.Layers) * int64(a.Heads) * int64(a.HeadDim) * pairs
	return 2*macs*int64(t) + attn
}

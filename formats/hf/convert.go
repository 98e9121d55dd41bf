package hf

import "fmt"

// toCanonical extracts canonical tensor number part of t's canonical
// tensors from its Hugging Face data.
func toCanonical(t hfTensor, part int, data Tensor, a Arch) Tensor {
	switch t.kind {
	case linkCopy:
		return data
	case linkTranspose:
		return transpose(data)
	case linkGPT2QKV:
		d := a.DModel
		if len(data.Shape) == 1 {
			return Tensor{Shape: []int{d}, Data: data.Data[part*d : (part+1)*d]}
		}
		out := Tensor{Shape: []int{d, d}, Data: make([]float32, d*d)}
		for r := range d {
			copy(out.Data[r*d:(r+1)*d], data.Data[r*3*d+part*d:r*3*d+(part+1)*d])
		}
		return out
	case linkNeoXQKV:
		h, dh := a.Heads, a.HeadDim
		rows := neoxRows(h, dh, part)
		if len(data.Shape) == 1 {
			out := Tensor{Shape: []int{h * dh}, Data: make([]float32, h*dh)}
			for c, r := range rows {
				out.Data[c] = data.Data[r]
			}
			return out
		}
		in := data.Shape[1]
		out := Tensor{Shape: []int{in, h * dh}, Data: make([]float32, in*h*dh)}
		for c, r := range rows {
			for i := range in {
				out.Data[i*h*dh+c] = data.Data[r*in+i]
			}
		}
		return out
	}
	panic(fmt.Sprintf("hf: unknown link kind %d", t.kind))
}

// fromCanonical builds t's Hugging Face data from its canonical tensors
// (one, or q, k, v).
func fromCanonical(t hfTensor, parts []Tensor, a Arch) Tensor {
	switch t.kind {
	case linkCopy:
		return parts[0]
	case linkTranspose:
		return transpose(parts[0])
	case linkGPT2QKV:
		d := a.DModel
		out := Tensor{Shape: t.Shape, Data: make([]float32, numElements(t.Shape))}
		if len(t.Shape) == 1 {
			for p := range 3 {
				copy(out.Data[p*d:], parts[p].Data)
			}
			return out
		}
		for r := range d {
			for p := range 3 {
				copy(out.Data[r*3*d+p*d:r*3*d+(p+1)*d], parts[p].Data[r*d:(r+1)*d])
			}
		}
		return out
	case linkNeoXQKV:
		h, dh := a.Heads, a.HeadDim
		out := Tensor{Shape: t.Shape, Data: make([]float32, numElements(t.Shape))}
		for p := range 3 {
			for c, r := range neoxRows(h, dh, p) {
				if len(t.Shape) == 1 {
					out.Data[r] = parts[p].Data[c]
					continue
				}
				in := t.Shape[1]
				for i := range in {
					out.Data[r*in+i] = parts[p].Data[i*h*dh+c]
				}
			}
		}
		return out
	}
	panic(fmt.Sprintf("hf: unknown link kind %d", t.kind))
}

// neoxRows gives, for canonical column h*dh+j of part (0 q, 1 k, 2 v), its
// row in GPT-NeoX's fused query_key_value, whose output axis is [H, 3, dh]
// (modeling_gpt_neox.py views it as [..., heads, 3*head_size] and splits the
// last axis into q, k, v).
func neoxRows(h, dh, part int) []int {
	rows := make([]int, h*dh)
	for head := range h {
		for j := range dh {
			rows[head*dh+j] = head*3*dh + part*dh + j
		}
	}
	return rows
}

// transpose swaps the axes of a matrix.
func transpose(t Tensor) Tensor {
	r, c := t.Shape[0], t.Shape[1]
	out := Tensor{Shape: []int{c, r}, Data: make([]float32, r*c)}
	const block = 64 // cache-friendly tiles
	for i0 := 0; i0 < r; i0 += block {
		for j0 := 0; j0 < c; j0 += block {
			for i := i0; i < min(i0+block, r); i++ {
				row := t.Data[i*c : (i+1)*c]
				for j := j0; j < min(j0+block, c); j++ {
					out.Data[j*r+i] = row[j]
				}
			}
		}
	}
	return out
}

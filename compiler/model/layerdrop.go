package model

import (
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph"
)

// layerDropStream separates LayerDrop's random stream from the
// initialiser's, which share the run's seed.
const layerDropStream = 0x1a7e_d809_5eed_0001

// layerKeep draws LayerDrop's scales for one training step: for each of the
// batch's sequences and each block, 0 (skipped, probability p) or 1/(1-p)
// (kept, so the expected block output is unchanged), row-major
// [batch, layers]. The draw depends only on (seed, step), not on what ran
// before, so a run resumed from a checkpoint skips the same blocks.
func layerKeep(seed int64, step, batch, layers int, p float64) []float32 {
	r := rand.New(rand.NewPCG(uint64(seed), layerDropStream^uint64(step)))
	keep := make([]float32, batch*layers)
	scale := float32(1 / (1 - p))
	for i := range keep {
		if r.Float64() >= p {
			keep[i] = scale
		}
	}
	return keep
}

// keptBlock scales block l's output y [B, seq, D] by each sequence's keep
// scale (keep [B, layers]); with keep nil (no LayerDrop, evaluation, the
// probe) y is returned as is.
func keptBlock(keep *Node, l int, y *Node) *Node {
	if keep == nil {
		return y
	}
	k := Slice(keep, AxisRange(), AxisElem(l)) // [B, 1]
	return Mul(y, ExpandAxes(k, -1))           // [B, 1, 1] broadcast over seq and D
}

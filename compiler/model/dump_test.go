package model

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

func TestDumpTrainGraph(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip()
	}
	r := refRun()
	m := newModel(t, r, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	in, tgt, _, _ := splitTokens(randomTokens(rng, 32*65, 256), 32)
	_, g, err := m.trainExec.CallWithGraph(in, tgt, tensors.FromFlatDataAndDimensions(m.hyper(0, 1), 4))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, n := range g.Nodes() {
		typ := n.Type().String()
		counts[typ]++
		if strings.Contains(typ, "Transpose") || strings.Contains(typ, "Dot") || strings.Contains(typ, "Slice") || strings.Contains(typ, "Concat") || strings.Contains(typ, "Pad") || strings.Contains(typ, "Broadcast") || strings.Contains(typ, "Gather") || strings.Contains(typ, "Scatter") {
			if n.Shape().Size() > 10000 {
				fmt.Printf("%s -> %s\n", n.String(), n.Shape())
			}
		}
	}
	fmt.Println(counts)
}

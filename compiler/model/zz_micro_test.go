package model

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
)

type microCase struct {
	name   string
	fn     func(g *Graph, in []*Node) []*Node
	shapes [][]int
}

func runMicro(t *testing.T, cases []microCase, rounds int) {
	b := testBackend(t)
	type st struct {
		exec *Exec
		args []any
		cpu  []float64
	}
	var sts []*st
	for _, c := range cases {
		fn := c.fn
		exec := MustNewExec(b, func(ins []*Node) []*Node { return fn(ins[0].Graph(), ins) })
		var args []any
		for _, s := range c.shapes {
			n := 1
			for _, d := range s {
				n *= d
			}
			data := make([]float32, n)
			for i := range data {
				data[i] = float32(i%7)*0.1 - 0.3
			}
			args = append(args, tensors.FromFlatDataAndDimensions(data, s...))
		}
		sts = append(sts, &st{exec: exec, args: args})
	}
	run := func(s *st) {
		outs := s.exec.MustCall(s.args...)
		for _, o := range outs {
			o.MustFinalizeAll()
		}
	}
	for _, s := range sts {
		run(s)
		run(s)
	}
	for r := 0; r < rounds; r++ {
		for _, s := range sts {
			c0 := cpuTime()
			const n = 5
			for i := 0; i < n; i++ {
				run(s)
			}
			s.cpu = append(s.cpu, (cpuTime()-c0).Seconds()*1e3/n)
		}
	}
	for i, s := range sts {
		sort.Float64s(s.cpu)
		fmt.Printf("%-50s cpu min %7.3f  q25 %7.3f  med %7.3f ms\n", cases[i].name, s.cpu[0], s.cpu[len(s.cpu)/4], s.cpu[len(s.cpu)/2])
	}
	_ = time.Now
}

func TestMicroSwiGLU(t *testing.T) {
	if os.Getenv("MICRO") == "" {
		t.Skip()
	}
	M, F := 2048, 352
	sum := func(h, r *Node) *Node { return ReduceAllSum(Mul(h, r)) }
	cases := []microCase{
		{"S0 fused swiglu on gv", func(g *Graph, in []*Node) []*Node {
			gv := Identity(in[0])
			h := activation.SwiGLU(gv)
			return Gradient(sum(h, in[2]), gv)
		}, [][]int{{M, 2 * F}, {1}, {M, F}}},
		{"S1 fused swish(a)*b", func(g *Graph, in []*Node) []*Node {
			a, b := Identity(in[0]), Identity(in[1])
			h := Mul(activation.Swish(a), b)
			return Gradient(sum(h, in[2]), a, b)
		}, [][]int{{M, F}, {M, F}, {M, F}}},
		{"S2 sigmoid decomposed", func(g *Graph, in []*Node) []*Node {
			a, b := Identity(in[0]), Identity(in[1])
			h := Mul(Mul(a, Sigmoid(a)), b)
			return Gradient(sum(h, in[2]), a, b)
		}, [][]int{{M, F}, {M, F}, {M, F}}},
		{"S3 custom vjp", func(g *Graph, in []*Node) []*Node {
			a, b, dh := in[0], in[1], in[2]
			sig := Sigmoid(a)
			s := Mul(a, sig)
			h := Mul(s, b)
			db := Mul(dh, s)
			tt := Mul(dh, b)
			da := Mul(tt, Add(sig, Mul(s, OneMinus(sig))))
			return []*Node{h, da, db}
		}, [][]int{{M, F}, {M, F}, {M, F}}},
		{"ref: mul [M,F]", func(g *Graph, in []*Node) []*Node {
			return []*Node{Mul(in[0], in[1])}
		}, [][]int{{M, F}, {M, F}}},
		{"ref: sigmoid [M,F]", func(g *Graph, in []*Node) []*Node {
			return []*Node{Sigmoid(in[0])}
		}, [][]int{{M, F}}},
		{"ref: swish fused [M,F]", func(g *Graph, in []*Node) []*Node {
			return []*Node{activation.Swish(in[0])}
		}, [][]int{{M, F}}},
	}
	runMicro(t, cases, 15)
}

func TestMicroSoftmax(t *testing.T) {
	if os.Getenv("MICRO") == "" {
		t.Skip()
	}
	sh := []int{32, 4, 64, 64}
	cases := []microCase{
		{"fused softmax", func(g *Graph, in []*Node) []*Node {
			return []*Node{BackendFusedSoftmax(in[0], 3)}
		}, [][]int{sh}},
		{"exp op", func(g *Graph, in []*Node) []*Node { return []*Node{Exp(in[0])} }, [][]int{sh}},
		{"fused sigmoid", func(g *Graph, in []*Node) []*Node { return []*Node{activation.Apply(activation.TypeSigmoid, in[0])} }, [][]int{sh}},
		{"logistic op", func(g *Graph, in []*Node) []*Node { return []*Node{Sigmoid(in[0])} }, [][]int{sh}},
		{"neg op", func(g *Graph, in []*Node) []*Node { return []*Node{Neg(in[0])} }, [][]int{sh}},
		{"softmax via sigmoid", func(g *Graph, in []*Node) []*Node {
			x := in[0]
			z := Sub(x, ReduceAndKeep(x, ReduceMax, -1))
			s := activation.Apply(activation.TypeSigmoid, z)
			e := Div(s, OneMinus(s))
			return []*Node{Div(e, ReduceAndKeep(e, ReduceSum, -1))}
		}, [][]int{sh}},
		{"softmax decomposed exp", func(g *Graph, in []*Node) []*Node {
			x := in[0]
			e := Exp(Sub(x, ReduceAndKeep(x, ReduceMax, -1)))
			return []*Node{Div(e, ReduceAndKeep(e, ReduceSum, -1))}
		}, [][]int{sh}},
	}
	runMicro(t, cases, 15)
}

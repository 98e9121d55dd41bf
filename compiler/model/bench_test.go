package model

import (
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/runtime/backend"
)

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchModel builds a model on the backend sinkrun itself would open for 2
// threads (runtime/backend.Open, which sets the Go backend's op scheduling),
// or on $SINKRUN_TEST_BACKEND when set.
func benchModel(b *testing.B, r config.Run) *Model {
	b.Helper()
	if os.Getenv("SINKRUN_TEST_BACKEND") != "" {
		return newModel(b, r, 1)
	}
	be, err := backend.Open(backend.Spec("", 2))
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(be, r.Model, r.Train, 1)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkTrainStep times one AdamW step of the reference model (torch_ref.py's) at B32 × T64.
func BenchmarkTrainStep(b *testing.B) {
	r := refRun()
	m := benchModel(b, r)
	rng := rand.New(rand.NewPCG(1, 1))
	tok := randomTokens(rng, 32*65, 256)
	for i := 0; i < 2; i++ { // compile and warm up
		if _, err := m.TrainStep(tok, 32, i); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := m.TrainStep(tok, 32, i); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time is steadier than wall time on a shared machine: compare variants with it.
	b.ReportMetric((cpuTime()-cpu0).Seconds()*1e3/float64(b.N), "cpu-ms/op")
	b.ReportMetric(m.FLOPsPerStep(32, 64)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkProbe times the probe of the reference model on 100 sequences of 64 tokens.
func BenchmarkProbe(b *testing.B) {
	r := refRun()
	m := benchModel(b, r)
	rng := rand.New(rand.NewPCG(1, 1))
	tok := randomTokens(rng, 100*64, 256)
	if _, err := m.Probe(tok, 100, 64); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Probe(tok, 100, 64); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvalLoss times the validation loss of the reference model on B32 × T64.
func BenchmarkEvalLoss(b *testing.B) {
	r := refRun()
	m := benchModel(b, r)
	rng := rand.New(rand.NewPCG(1, 1))
	tok := randomTokens(rng, 32*65, 256)
	if _, err := m.EvalLoss(tok, 32); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.EvalLoss(tok, 32); err != nil {
			b.Fatal(err)
		}
	}
}

package results

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// gridRuns is a 2 x 3 grid (first axis slowest) with two seeds, in grid
// order, started one second apart.
func gridRuns() []table.Run {
	var runs []table.Run
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, norm := range []string{"pre", "post"} {
		for _, lr := range []string{"0.003", "0.001", "0.01"} {
			for _, seed := range []int64{1, 2} {
				f, _ := strconv.ParseFloat(lr, 64)
				runs = append(runs, table.Run{
					ID: norm + lr + strconv.FormatInt(seed, 10), Experiment: "grid",
					Settings: []config.Column{
						{Name: "model_norm_placement", Value: norm}, {Name: "train_optimizer_lr", Value: f},
						{Name: "measure_eps", Value: "0.3,0.5"}, {Name: "seed", Value: seed},
					},
					Varied:    []config.Setting{{Path: "model.norm.placement", Value: norm}, {Path: "train.optimizer.lr", Value: lr}},
					StartedAt: t0.Add(time.Duration(len(runs)) * time.Second),
					GridIndex: -1, // files without grid_index
				})
			}
		}
	}
	return runs
}

func ids(runs []table.Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

// With grid_index on every run, SortRuns orders by experiment (in order of
// first start) and grid index, whatever the start times.
func TestSortRunsGridIndex(t *testing.T) {
	want := gridRuns()
	for i := range want {
		want[i].GridIndex = int64(i)
	}
	t0 := want[0].StartedAt
	other := table.Run{ID: "z", Experiment: "later", StartedAt: t0.Add(-time.Hour), GridIndex: 0}
	got := append([]table.Run(nil), want...)
	// Start times in an order that the start-time heuristic cannot undo:
	// whole cells reversed, and the values of axis lr first used out of
	// grid order.
	for i := range got {
		got[i].StartedAt = t0.Add(time.Duration(len(got)-i) * time.Minute)
	}
	got = append(got, other)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	SortRuns(got)
	if w := append([]string{"z"}, ids(want)...); !reflect.DeepEqual(ids(got), w) {
		t.Errorf("SortRuns:\n got %v\nwant %v", ids(got), w)
	}

	// One run without a grid index: the start-time heuristic for all.
	got = append([]table.Run(nil), want...)
	got[3].GridIndex = -1
	for i := range got {
		got[i].StartedAt = t0.Add(time.Duration(len(got)-i) * time.Minute)
	}
	SortRuns(got)
	if got[0].ID != want[len(want)-1].ID {
		t.Errorf("without every grid index: first %s, want %s (the earliest start's cell)", got[0].ID, want[len(want)-1].ID)
	}
}

func TestSortRuns(t *testing.T) {
	want := gridRuns()
	other := table.Run{ID: "z", Experiment: "later", StartedAt: want[0].StartedAt.Add(-time.Hour)}

	// Neighbours in different grid cells swapped (several jobs), a resumed
	// tail an hour later, and the input shuffled: grid order comes back.
	// (Seeds of one cell keep their start order.)
	got := gridRuns()
	got[1].StartedAt, got[2].StartedAt = got[2].StartedAt, got[1].StartedAt
	got[7].StartedAt, got[8].StartedAt = got[8].StartedAt, got[7].StartedAt
	for i := 9; i < len(got); i++ {
		got[i].StartedAt = got[i].StartedAt.Add(time.Hour)
	}
	got = append(got, other)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	SortRuns(got)
	// "later" started first, so it comes first.
	if w := append([]string{"z"}, ids(want)...); !reflect.DeepEqual(ids(got), w) {
		t.Errorf("SortRuns:\n got %v\nwant %v", ids(got), w)
	}
}

func TestVariants(t *testing.T) {
	runs := gridRuns()
	runs = append(runs, table.Run{ID: "solo", Experiment: "plain", Settings: []config.Column{{Name: "seed", Value: int64(1)}}})
	vs := Variants(runs)
	if len(vs) != 7 {
		t.Fatalf("%d variants, want 6 + 1", len(vs))
	}
	if v := vs[0]; v.Label != "placement=pre, lr=0.003" || len(v.Runs) != 2 || v.Experiment != "grid" ||
		!reflect.DeepEqual(v.Varied, []config.Setting{{Path: "model.norm.placement", Value: "pre"}, {Path: "train.optimizer.lr", Value: "0.003"}}) {
		t.Errorf("variant 0 = %+v", v)
	}
	if v := vs[6]; v.Label != "plain" || len(v.Runs) != 1 {
		t.Errorf("unvaried experiment: %+v", v)
	}
}

func TestSettingHelpers(t *testing.T) {
	r := gridRuns()[1]
	if s, ok := Seed(r); !ok || s != 2 {
		t.Errorf("Seed = %v, %v", s, ok)
	}
	if e, ok := FirstEps(r); !ok || e != 0.3 {
		t.Errorf("FirstEps = %v, %v", e, ok)
	}
	if v, ok := SettingInt(r, "train_optimizer_lr"); !ok || v != 0 {
		t.Errorf("SettingInt(float) = %v, %v", v, ok)
	}
	if _, ok := SettingValue(r, "nope"); ok {
		t.Error("SettingValue found a missing setting")
	}
	if _, ok := FirstEps(table.Run{}); ok {
		t.Error("FirstEps without settings")
	}
}

package results

import (
	"sort"
	"strconv"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// Variant is the runs of one experiment that differ only in their seed: one
// row of the summary, one line of a plot.
type Variant struct {
	Experiment string
	// Varied is the run's varied settings other than the seed, in axis order.
	Varied []config.Setting
	// Label names the variant by its varied values with the same short axis
	// names as the summary's columns ("position=rope, lr=0.001"); it is the
	// experiment's name when nothing is varied.
	Label string
	Runs  []table.Run
}

// Variants groups runs the way WriteSummary groups its rows: by experiment,
// then by every setting but the seed (or, for runs without settings, every
// varied value but the seed). Experiments and variants keep the order of
// first appearance in runs; so do the runs of a variant.
func Variants(runs []table.Run) []Variant {
	var out []Variant
	idx := map[string]int{}
	axes := map[string][]string{}
	for _, r := range runs {
		for _, s := range r.Varied {
			if !isSeedPath(s.Path) && !contains(axes[r.Experiment], s.Path) {
				axes[r.Experiment] = append(axes[r.Experiment], s.Path)
			}
		}
		key := r.Experiment + "\x01" + groupKey(r)
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			v := Variant{Experiment: r.Experiment}
			for _, s := range r.Varied {
				if !isSeedPath(s.Path) {
					v.Varied = append(v.Varied, s)
				}
			}
			out = append(out, v)
		}
		out[i].Runs = append(out[i].Runs, r)
	}
	short := map[string]map[string]string{}
	for exp, paths := range axes {
		names := shortNames(paths)
		short[exp] = map[string]string{}
		for i, p := range paths {
			short[exp][p] = names[i]
		}
	}
	for i := range out {
		v := &out[i]
		var parts []string
		for _, s := range v.Varied {
			parts = append(parts, short[v.Experiment][s.Path]+"="+s.Value)
		}
		v.Label = strings.Join(parts, ", ")
		if v.Label == "" {
			v.Label = v.Experiment
		}
	}
	return out
}

// SortRuns puts runs read back from disk into the order in which `sinkrun
// run` lists a batch (grid order), so that a summary of ReadRuns matches the
// one printed at the end of the run even when runs finished out of order
// (several jobs at once, resumed or re-run runs). Runs are first ordered by
// start time (then ID), and experiments keep the order in which they first
// started. When every run has its GridIndex (files of sinkrun versions that
// write grid_index), runs are then ordered by experiment and GridIndex.
// Otherwise the grid order is recovered from the start times: within an
// experiment, runs are ordered axis by axis, first axis slowest, each axis's
// values in the order in which they were first used; runs that differ only
// in their seed keep their start order.
func SortRuns(runs []table.Run) {
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].StartedAt.Equal(runs[j].StartedAt) {
			return runs[i].StartedAt.Before(runs[j].StartedAt)
		}
		return runs[i].ID < runs[j].ID
	})
	expRank := map[string]int{}
	indexed := true
	for _, r := range runs {
		if _, ok := expRank[r.Experiment]; !ok {
			expRank[r.Experiment] = len(expRank)
		}
		indexed = indexed && r.GridIndex >= 0
	}
	if indexed {
		sort.SliceStable(runs, func(i, j int) bool {
			a, b := runs[i], runs[j]
			if ea, eb := expRank[a.Experiment], expRank[b.Experiment]; ea != eb {
				return ea < eb
			}
			return a.GridIndex < b.GridIndex
		})
		return
	}
	axes := map[string][]string{}
	valRank := map[string]map[string]int{} // experiment\x01path -> value -> rank
	for _, r := range runs {
		for _, s := range r.Varied {
			if isSeedPath(s.Path) {
				continue
			}
			if !contains(axes[r.Experiment], s.Path) {
				axes[r.Experiment] = append(axes[r.Experiment], s.Path)
			}
			k := r.Experiment + "\x01" + s.Path
			if valRank[k] == nil {
				valRank[k] = map[string]int{}
			}
			if _, ok := valRank[k][s.Value]; !ok {
				valRank[k][s.Value] = len(valRank[k])
			}
		}
	}
	key := func(r table.Run) []int {
		k := []int{expRank[r.Experiment]}
		for _, p := range axes[r.Experiment] {
			rank := -1
			for _, s := range r.Varied {
				if s.Path == p {
					rank = valRank[r.Experiment+"\x01"+p][s.Value]
					break
				}
			}
			k = append(k, rank)
		}
		return k
	}
	type keyed struct {
		key []int
		run table.Run
	}
	ks := make([]keyed, len(runs))
	for i, r := range runs {
		ks[i] = keyed{key(r), r}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		a, b := ks[i].key, ks[j].key
		for n := 0; n < len(a) && n < len(b); n++ {
			if a[n] != b[n] {
				return a[n] < b[n]
			}
		}
		return len(a) < len(b)
	})
	for i := range ks {
		runs[i] = ks[i].run
	}
}

// SettingValue returns the value of the run's setting column name
// (config.Flatten names, e.g. "measure_probe_length"), if present.
func SettingValue(r table.Run, name string) (any, bool) {
	for _, s := range r.Settings {
		if s.Name == name {
			return s.Value, true
		}
	}
	return nil, false
}

// SettingInt returns an integer setting, if present.
func SettingInt(r table.Run, name string) (int64, bool) {
	v, ok := SettingValue(r, name)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), true
	}
	return 0, false
}

// Seed is the run's seed (the "seed" setting), if recorded.
func Seed(r table.Run) (int64, bool) { return SettingInt(r, "seed") }

// FirstEps is the first eps of the run's measure.eps list: the eps at which
// final_sink1 is reported.
func FirstEps(r table.Run) (float64, bool) {
	s, ok := firstEps(r)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

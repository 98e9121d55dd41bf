package compiler

import (
	"fmt"
	"strings"

	"github.com/sinkrun/sinkrun/dsl"
)

// suggest returns the candidate closest to name, or "" if none is close.
func suggest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	limit := 2
	if len(name) <= 3 {
		limit = 1
	}
	if len(name) >= 12 {
		limit = 3
	}
	for _, c := range candidates {
		d := dsl.Distance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// didYouMean returns ` (did you mean "x"?)` or "".
func didYouMean(name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// oneOf renders a list of names as "one of a, b, c" (or just "a").
func oneOf(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return "one of " + strings.Join(names, ", ")
}

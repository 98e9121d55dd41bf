package dsl

// Distance is the optimal-string-alignment (restricted Damerau-Levenshtein)
// distance between a and b, counted in runes: insertions, deletions,
// substitutions and transpositions of neighbours. Strings longer than 64
// runes are never close: their distance is reported as 1<<20.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 20
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// closeTo reports whether word is a likely misspelling of the keyword kw:
// one edit away from a keyword of up to 4 letters, two from a longer one.
func closeTo(word, kw string) bool {
	limit := 2
	if len(kw) <= 4 {
		limit = 1
	}
	return Distance(word, kw) <= limit
}

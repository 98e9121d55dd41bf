package plot

import (
	"fmt"
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of a panel, e.g. a variant's mean over seeds.
type Series struct {
	Label string
	X, Y  []float64
	// Lo and Hi, when set (same length as X), draw a shaded band, e.g. the
	// mean ± one standard deviation over seeds.
	Lo, Hi []float64
}

// HLine is a dashed horizontal reference line, listed in the legend.
type HLine struct {
	Y     float64
	Label string
}

// Axis kinds for Panel.XAxis.
const (
	AxisLinear  = iota // plain numbers
	AxisTokens         // numbers with SI suffixes (12k, 1.5M)
	AxisInteger        // one tick per integer (layers)
)

// Panel is one line plot.
type Panel struct {
	Title, XLabel, YLabel string
	Series                []Series
	HLines                []HLine
	XAxis                 int
	// LogY draws the y axis on a log scale when the positive values span
	// more than a factor of 20 (points <= 0 are then dropped).
	LogY bool
	// YFromZero starts the y axis at 0; YMaxAtLeast raises its top.
	YFromZero   bool
	YMaxAtLeast float64
}

// LineChart is one or more panels side by side with a shared legend on the
// right: series with the same label share a colour and a marker across
// panels.
type LineChart struct {
	Title  string // above all panels (only drawn with more than one panel)
	Panels []Panel
	Note   string // a footnote under the panels
	// PanelWidth and Height default to 5.5 in x 4 in.
	PanelWidth, Height vg.Length
}

// Lines draws a LineChart. It fails when no panel has a finite point.
func Lines(c LineChart) (*Figure, error) {
	var labels []string
	index := map[string]int{}
	points := 0
	for _, p := range c.Panels {
		for _, s := range p.Series {
			if _, ok := index[s.Label]; !ok {
				index[s.Label] = len(labels)
				labels = append(labels, s.Label)
			}
			for i := range s.X {
				if i < len(s.Y) && finite(s.X[i]) && finite(s.Y[i]) {
					points++
				}
			}
		}
	}
	if points == 0 {
		return nil, errNoData
	}
	plots := make([]*gplot.Plot, len(c.Panels))
	legend := gplot.NewLegend()
	legend.TextStyle = textStyle(10)
	legend.Top, legend.Left = true, true
	legend.Padding = vg.Points(3)
	legend.ThumbnailWidth = vg.Points(26)
	for pi, pn := range c.Panels {
		p := newPlot(pn.Title, pn.XLabel, pn.YLabel)
		p.Add(plotter.NewGrid())
		log := pn.LogY && wantLog(pn.Series)
		if log {
			p.Y.Scale = gplot.LogScale{}
			p.Y.Tick.Marker = logTicks{}
		}
		switch pn.XAxis {
		case AxisTokens:
			p.X.Tick.Marker = niceTicks{si: true}
		case AxisInteger:
			p.X.Tick.Marker = intTicks{}
		default:
			p.X.Tick.Marker = niceTicks{}
		}
		if !log {
			p.Y.Tick.Marker = niceTicks{}
		}
		xmin, xmax := math.Inf(1), math.Inf(-1)
		for _, s := range pn.Series {
			i := index[s.Label]
			col := seriesColor(i)
			if band := bandPolygon(s, log, col); band != nil {
				p.Add(band)
			}
			xys := seriesXYs(s.X, s.Y, log)
			if len(xys) == 0 {
				continue
			}
			for _, xy := range xys {
				xmin, xmax = math.Min(xmin, xy.X), math.Max(xmax, xy.X)
			}
			line, pts, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, fmt.Errorf("plot: series %q: %w", s.Label, err)
			}
			line.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(1.6), Dashes: seriesDash(i)}
			pts.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2.6), Shape: seriesShape(i)}
			if len(xys) > 40 { // dense curves: markers would hide the line
				pts.GlyphStyle.Radius = 0
			}
			p.Add(line, pts)
		}
		for _, h := range pn.HLines {
			if !finite(h.Y) || (log && h.Y <= 0) || math.IsInf(xmin, 0) {
				continue
			}
			l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: h.Y}, {X: xmax, Y: h.Y}})
			if err != nil {
				return nil, err
			}
			l.LineStyle = draw.LineStyle{Color: color.Gray{0x55}, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
			p.Add(l)
		}
		if pn.YFromZero && !log {
			p.Y.Min = 0
		}
		if !log && pn.YMaxAtLeast > p.Y.Max {
			p.Y.Max = pn.YMaxAtLeast
		}
		if !log && p.Y.Max > p.Y.Min {
			p.Y.Max += (p.Y.Max - p.Y.Min) * 0.04 // headroom for markers
		}
		plots[pi] = p
	}
	// Legend entries in label order, then the reference lines.
	for i, l := range labels {
		col := seriesColor(i)
		line := &plotter.Line{LineStyle: draw.LineStyle{Color: col, Width: vg.Points(1.6), Dashes: seriesDash(i)}}
		pts := &plotter.Scatter{GlyphStyle: draw.GlyphStyle{Color: col, Radius: vg.Points(2.6), Shape: seriesShape(i)}}
		legend.Add(l, line, pts)
	}
	seenH := map[string]bool{}
	for _, pn := range c.Panels {
		for _, h := range pn.HLines {
			if h.Label != "" && !seenH[h.Label] {
				seenH[h.Label] = true
				legend.Add(h.Label, &plotter.Line{LineStyle: draw.LineStyle{Color: color.Gray{0x55}, Width: vg.Points(1.2),
					Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}})
			}
		}
	}

	pw, h := c.PanelWidth, c.Height
	if pw == 0 {
		pw = 5.5 * vg.Inch
	}
	if h == 0 {
		h = 4 * vg.Inch
	}
	lw := legendWidth(legend, labels, seenH)
	titleH := vg.Length(0)
	showTitle := c.Title != "" && len(plots) > 1
	if showTitle {
		titleH = 0.35 * vg.Inch
	}
	noteH := vg.Length(0)
	if c.Note != "" {
		noteH = 0.3 * vg.Inch
	}
	fig := &Figure{Width: pw*vg.Length(len(plots)) + lw, Height: h + titleH + noteH}
	fig.draw = func(dc draw.Canvas) {
		if showTitle {
			sty := textStyle(14)
			sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
			dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X - lw) / 2, Y: dc.Max.Y - vg.Points(6)}, c.Title)
		}
		if c.Note != "" {
			sty := textStyle(9.5)
			sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
			dc.FillText(sty, vg.Point{X: dc.Min.X + vg.Points(8), Y: dc.Min.Y + vg.Points(6)}, c.Note)
		}
		area := draw.Crop(dc, 0, -lw, noteH, -titleH)
		tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Points(14), PadTop: vg.Points(6),
			PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(4)}
		canvases := gplot.Align([][]*gplot.Plot{plots}, tiles, area)
		for i, p := range plots {
			p.Draw(canvases[0][i])
		}
		// The legend starts at the top of the first panel's data area.
		da := plots[0].DataCanvas(canvases[0][0])
		strip := dc
		strip.Min.X = dc.Max.X - lw + vg.Points(6)
		strip.Max.Y = da.Max.Y
		strip.Min.Y = dc.Min.Y
		legend.Draw(strip)
	}
	return fig, nil
}

// logTicks are gonum's log-scale ticks within the axis range only: a tick
// beyond it (1000 on an axis ending at 100.6) is not drawn but still takes
// room, leaving a gap between a panel's title and its data.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	var ts []gplot.Tick
	for _, t := range (gplot.LogTicks{Prec: -1}).Ticks(lo, hi) {
		if t.Value >= lo*(1-1e-9) && t.Value <= hi*(1+1e-9) {
			ts = append(ts, t)
		}
	}
	return ts
}

// legendWidth is the width of the legend strip for the given labels.
func legendWidth(l gplot.Legend, labels []string, extra map[string]bool) vg.Length {
	sty := l.TextStyle
	w := vg.Length(0)
	for _, s := range labels {
		w = max(w, sty.Width(s))
	}
	for s := range extra {
		w = max(w, sty.Width(s))
	}
	return w + l.ThumbnailWidth + sty.Width(" ") + vg.Points(18)
}

// wantLog reports whether the positive y values span more than 20x.
func wantLog(ss []Series) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, v := range s.Y {
			if finite(v) && v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	return hi > 0 && lo > 0 && hi/lo > 20
}

// seriesXYs keeps the finite points (positive ones on a log axis).
func seriesXYs(xs, ys []float64, log bool) plotter.XYs {
	var out plotter.XYs
	for i := range xs {
		if i >= len(ys) || !finite(xs[i]) || !finite(ys[i]) || (log && ys[i] <= 0) {
			continue
		}
		out = append(out, plotter.XY{X: xs[i], Y: ys[i]})
	}
	return out
}

// bandPolygon is the shaded area between s.Lo and s.Hi, or nil.
func bandPolygon(s Series, log bool, col color.RGBA) *plotter.Polygon {
	if len(s.Lo) != len(s.X) || len(s.Hi) != len(s.X) {
		return nil
	}
	var upper, lower plotter.XYs
	for i := range s.X {
		lo, hi := s.Lo[i], s.Hi[i]
		if !finite(s.X[i]) || !finite(lo) || !finite(hi) || hi <= lo {
			continue
		}
		if log && lo <= 0 {
			continue
		}
		upper = append(upper, plotter.XY{X: s.X[i], Y: hi})
		lower = append(lower, plotter.XY{X: s.X[i], Y: lo})
	}
	if len(upper) < 2 {
		return nil
	}
	ring := append(plotter.XYs{}, upper...)
	for i := len(lower) - 1; i >= 0; i-- {
		ring = append(ring, lower[i])
	}
	poly, err := plotter.NewPolygon(ring)
	if err != nil {
		return nil
	}
	poly.Color = color.NRGBA{col.R, col.G, col.B, 0x38}
	poly.LineStyle.Width = 0
	return poly
}

// Heatmap is a matrix drawn as coloured cells with a colour bar.
type Heatmap struct {
	Title, XLabel, YLabel string
	// ZLabel names the colour bar.
	ZLabel string
	// Z is [row][col]; rows are drawn along y, columns along x. NaN cells
	// are drawn light grey (e.g. the masked half of an attention map).
	Z [][]float64
	// XTicks and YTicks label columns and rows; nil numbers them from
	// XBase and YBase (0 by default; 1 for 1-based token positions).
	XTicks, YTicks []string
	XBase, YBase   int
	// Min and Max are the colour range; Min == Max uses the data range.
	Min, Max float64
	// Annotate writes each cell's value with Format (default "%.2f"); it
	// is ignored for matrices wider or taller than 24 cells.
	Annotate bool
	Format   string
	// TopDown draws row 0 at the top (matrix order), else at the bottom.
	TopDown bool
	Note    string
	// Cell is the side of one cell; 0 picks a size for the matrix.
	Cell vg.Length
}

// Figure draws the heat map.
func (h Heatmap) Figure() (*Figure, error) {
	rows := len(h.Z)
	if rows == 0 || len(h.Z[0]) == 0 {
		return nil, errNoData
	}
	cols := len(h.Z[0])
	for _, r := range h.Z {
		if len(r) != cols {
			return nil, fmt.Errorf("plot: heat map rows of unequal length (%d and %d)", cols, len(r))
		}
	}
	lo, hi := h.Min, h.Max
	if lo == hi {
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, r := range h.Z {
			for _, v := range r {
				if finite(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
		if math.IsInf(lo, 0) {
			lo, hi = 0, 1
		}
		if lo == hi {
			lo, hi = lo-0.5, hi+0.5
		}
	}
	cmap := newViridis(lo, hi)
	// Row r is drawn at y = r, or at y = rows-1-r when TopDown.
	z := h.Z
	if h.TopDown {
		z = make([][]float64, rows)
		for r := range z {
			z[r] = h.Z[rows-1-r]
		}
	}
	var cellsPlotter gplot.Plotter
	if rows*cols > 128*128 {
		hm := plotter.NewHeatMap(matrix(z), cmap.Palette(256))
		hm.Min, hm.Max = lo, hi
		hm.Underflow, hm.Overflow = clampAt(cmap, lo), clampAt(cmap, hi)
		hm.NaN = nanColor
		hm.Rasterized = true
		cellsPlotter = hm
	} else {
		cellsPlotter = &cells{z: z, cmap: cmap}
	}

	// The title is drawn over the whole figure (colour bar included), so
	// that a long one is not clipped by the plot's narrower data area.
	p := newPlot("", h.XLabel, h.YLabel)
	p.Add(cellsPlotter)
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Min, p.X.Max = -0.5, float64(cols)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(rows)-0.5
	p.X.Tick.Marker = posTicks{n: cols, base: h.XBase, labels: h.XTicks}
	p.Y.Tick.Marker = posTicks{n: rows, base: h.YBase, labels: h.YTicks, flip: h.TopDown}
	if h.Annotate && rows <= 24 && cols <= 24 {
		format := h.Format
		if format == "" {
			format = "%.2f"
		}
		p.Add(&cellLabels{z: z, cmap: cmap, format: format})
	}

	cb := newPlot("", "", h.ZLabel)
	cb.HideX()
	cb.Y.Padding = 0
	cb.Y.Tick.Marker = niceTicks{}
	cb.Add(&colorStrip{cmap: cmap})

	cell := h.Cell
	if cell == 0 {
		cell = max(min(vg.Inch*5.5/vg.Length(max(rows, cols)), 0.75*vg.Inch), 0.08*vg.Inch)
	}
	// Few rows (a one-layer model) would make a strip too thin to read:
	// rows get at least minStrip in all (cells then taller than wide), and
	// the colour bar at least minBar, whatever the map's height.
	cellH := max(cell, min(minStrip/vg.Length(rows), 0.75*vg.Inch))
	mapH := cellH * vg.Length(rows)
	const cbW = 1.1 * vg.Inch
	margin := 1.0 * vg.Inch // axis labels and ticks
	if h.YTicks != nil {
		w := vg.Length(0)
		for _, s := range h.YTicks {
			w = max(w, textStyle(10).Width(s))
		}
		margin = max(margin, w+0.6*vg.Inch)
	}
	noteH := vg.Length(0)
	if h.Note != "" {
		noteH = 0.3 * vg.Inch
	}
	titleSty := textStyle(13)
	titleSty.XAlign, titleSty.YAlign = draw.XCenter, draw.YTop
	titleW, titleH := vg.Length(0), vg.Length(0)
	if h.Title != "" {
		titleW = titleSty.Width(h.Title) + 0.3*vg.Inch
		titleH = titleSty.Height(h.Title) + vg.Points(10)
	}
	noteW := textStyle(9.5).Width(h.Note) + 0.3*vg.Inch
	w := max(cell*vg.Length(cols)+margin+cbW, titleW, noteW, 3.5*vg.Inch)
	const axesH = 0.9 * vg.Inch // the x axis's ticks and label below the cells
	// A colour bar taller than the map reaches spare/2 above and below it.
	spare := max(minBar-mapH, 0)
	ht := max(mapH+axesH+spare/2, minBar+vg.Points(8)) + noteH + titleH
	fig := &Figure{Width: w, Height: ht}
	fig.draw = func(dc draw.Canvas) {
		if h.Title != "" {
			dc.FillText(titleSty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - vg.Points(5)}, h.Title)
			dc = draw.Crop(dc, 0, 0, 0, -titleH)
		}
		if h.Note != "" {
			sty := textStyle(9.5)
			sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
			dc.FillText(sty, vg.Point{X: dc.Min.X + vg.Points(8), Y: dc.Min.Y + vg.Points(6)}, h.Note)
		}
		area := draw.Crop(dc, vg.Points(4), -vg.Points(4), noteH+vg.Points(4), -vg.Points(4))
		// The map keeps its cells' size (cell x cellH per value), centred
		// beside a colour bar that may be taller than it.
		main := draw.Crop(area, 0, -cbW, 0, -spare/2)
		p.Draw(main)
		da := p.DataCanvas(main)
		// The colour bar's y axis (ticks and label) sits left of the bar.
		axisW := cb.DataCanvas(area).Min.X - area.Min.X
		bar := area
		bar.Min.X = da.Max.X + 0.12*vg.Inch
		bar.Max.X = bar.Min.X + axisW + 0.22*vg.Inch
		mid, half := (da.Min.Y+da.Max.Y)/2, max(da.Max.Y-da.Min.Y, minBar)/2
		bar.Min.Y, bar.Max.Y = mid-half, mid+half
		cb.Draw(bar)
	}
	return fig, nil
}

var nanColor = color.Gray{0xeb}

// Heat map sizes that keep a map of one or a few rows readable: the cells'
// least total height, and the colour bar's least height (room for six
// tick labels, 0 to 1 in steps of 0.2, without overlap).
const (
	minStrip = 0.6 * vg.Inch
	minBar   = 2.2 * vg.Inch
)

// matrix adapts [row][col] data to plotter.GridXYZ.
type matrix [][]float64

func (m matrix) Dims() (c, r int)   { return len(m[0]), len(m) }
func (m matrix) Z(c, r int) float64 { return m[r][c] }
func (m matrix) X(c int) float64    { return float64(c) }
func (m matrix) Y(r int) float64    { return float64(r) }

// cells draws z[r][c] as a unit square centred on (c, r). Squares overlap
// their right and upper neighbours by a hair so that anti-aliasing leaves
// no seams between cells.
type cells struct {
	z    [][]float64
	cmap palette.ColorMap
}

func (m *cells) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	rows, cols := len(m.z), len(m.z[0])
	ov := vg.Points(0.4)
	for r, row := range m.z {
		y0, y1 := trY(float64(r)-0.5), trY(float64(r)+0.5)
		if r < rows-1 {
			y1 += ov
		}
		for col, v := range row {
			x0, x1 := trX(float64(col)-0.5), trX(float64(col)+0.5)
			if col < cols-1 {
				x1 += ov
			}
			fill := color.Color(nanColor)
			if !math.IsNaN(v) {
				fill = clampAt(m.cmap, v)
			}
			c.FillPolygon(fill, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
		}
	}
}

func (m *cells) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(m.z[0])) - 0.5, -0.5, float64(len(m.z)) - 0.5
}

// colorStrip is a vertical colour bar drawn as vector bands (a raster
// image, as plotter.ColorBar draws, does not show in every SVG viewer).
type colorStrip struct{ cmap palette.ColorMap }

func (s *colorStrip) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	const n = 128
	lo, hi := s.cmap.Min(), s.cmap.Max()
	ov := vg.Points(0.4)
	for i := range n {
		a := lo + (hi-lo)*float64(i)/n
		b := lo + (hi-lo)*float64(i+1)/n
		y0, y1 := trY(a), trY(b)
		if i < n-1 {
			y1 += ov
		}
		c.FillPolygon(clampAt(s.cmap, (a+b)/2), []vg.Point{{X: trX(0), Y: y0}, {X: trX(1), Y: y0}, {X: trX(1), Y: y1}, {X: trX(0), Y: y1}})
	}
}

func (s *colorStrip) DataRange() (xmin, xmax, ymin, ymax float64) {
	return 0, 1, s.cmap.Min(), s.cmap.Max()
}

// cellLabels writes each cell's value in a colour that reads on the cell.
type cellLabels struct {
	z      [][]float64
	cmap   palette.ColorMap
	format string
}

func (l *cellLabels) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	cellW := trX(1) - trX(0)
	size := min(vg.Points(10), max(cellW*0.28, vg.Points(6)))
	sty := textStyle(size)
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
	for r, row := range l.z {
		for col, v := range row {
			if !finite(v) {
				continue
			}
			cc := clampAt(l.cmap, v)
			sty.Color = color.Black
			if luminance(cc) < 0.45 {
				sty.Color = color.White
			}
			c.FillText(sty, vg.Point{X: trX(float64(col)), Y: trY(float64(r))}, fmt.Sprintf(l.format, v))
		}
	}
}

func clampAt(m palette.ColorMap, v float64) color.Color {
	v = math.Max(m.Min(), math.Min(m.Max(), v))
	c, err := m.At(v)
	if err != nil {
		return color.Black
	}
	return c
}

// luminance is the relative luminance of c in [0, 1].
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v) / 0xffff
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// viridis is matplotlib's perceptually uniform colour map, linearly
// interpolated between 11 of its colours.
type viridis struct {
	min, max, alpha float64
}

var viridisStops = []color.RGBA{
	{0x44, 0x01, 0x54, 0xff}, {0x48, 0x28, 0x78, 0xff}, {0x3e, 0x49, 0x89, 0xff},
	{0x31, 0x68, 0x8e, 0xff}, {0x26, 0x82, 0x8e, 0xff}, {0x1f, 0x9e, 0x89, 0xff},
	{0x35, 0xb7, 0x79, 0xff}, {0x6e, 0xce, 0x58, 0xff}, {0xb5, 0xde, 0x2b, 0xff},
	{0xfd, 0xe7, 0x25, 0xff},
}

func newViridis(min, max float64) *viridis { return &viridis{min: min, max: max, alpha: 1} }

func (v *viridis) At(x float64) (color.Color, error) {
	switch {
	case math.IsNaN(x):
		return nil, palette.ErrNaN
	case x < v.min:
		return nil, palette.ErrUnderflow
	case x > v.max:
		return nil, palette.ErrOverflow
	}
	t := 0.0
	if v.max > v.min {
		t = (x - v.min) / (v.max - v.min)
	}
	f := t * float64(len(viridisStops)-1)
	i := min(int(f), len(viridisStops)-2)
	frac := f - float64(i)
	a, b := viridisStops[i], viridisStops[i+1]
	mix := func(p, q uint8) uint8 { return uint8(math.Round(float64(p) + (float64(q)-float64(p))*frac)) }
	al := uint8(math.Round(v.alpha * 255))
	c := color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), al}
	return c, nil
}

func (v *viridis) Max() float64       { return v.max }
func (v *viridis) SetMax(x float64)   { v.max = x }
func (v *viridis) Min() float64       { return v.min }
func (v *viridis) SetMin(x float64)   { v.min = x }
func (v *viridis) Alpha() float64     { return v.alpha }
func (v *viridis) SetAlpha(a float64) { v.alpha = a }
func (v *viridis) Palette(n int) palette.Palette {
	cs := make(paletteColors, n)
	for i := range cs {
		x := v.min
		if n > 1 {
			x = v.min + (v.max-v.min)*float64(i)/float64(n-1)
		}
		cs[i], _ = v.At(x)
	}
	return cs
}

type paletteColors []color.Color

func (p paletteColors) Colors() []color.Color { return p }

// HeadHeatmap is the layer x head map of alpha_1 of one run: layers along
// y (layer 0 at the bottom), heads along x, the colour scale fixed at
// [0, 1] so maps of different runs compare, each cell's value written in it.
// alpha is [layer][head].
func HeadHeatmap(title string, alpha [][]float64, note string) (*Figure, error) {
	return Heatmap{
		Title: title, XLabel: "head", YLabel: "layer", ZLabel: "α₁ (attention on token 1)",
		Z: alpha, Min: 0, Max: 1, Annotate: true, Format: "%.2f", Note: note,
	}.Figure()
}

// AttentionMap draws the attention map of one probe sequence for one layer
// and head: att[t][j] is the attention of query t on key j (rows = queries,
// drawn top-down; columns = keys). Entries with j > t (masked by a causal
// mask) should be NaN and are drawn light grey. tokens, if given (one per
// position), label the axes when the map is at most 32 wide. The colour
// scale is [0, 1] unless the values leave it (e.g. an unnormalised kernel).
func AttentionMap(title string, att [][]float64, tokens []string) (*Figure, error) {
	lo, hi := 0.0, 1.0
	for _, r := range att {
		for _, v := range r {
			if finite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	h := Heatmap{
		Title: title, XLabel: "key position", YLabel: "query position", ZLabel: "attention weight",
		Z: att, Min: lo, Max: hi, TopDown: true, Annotate: len(att) <= 12, Format: "%.2f",
		XBase: 1, YBase: 1,
	}
	if len(tokens) == len(att) && len(att) <= 32 {
		h.XTicks, h.YTicks = tokens, tokens
		h.XLabel, h.YLabel = "key", "query"
	}
	return h.Figure()
}

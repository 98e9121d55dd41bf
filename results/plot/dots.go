package plot

import (
	"fmt"
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DotPanel is one value per category (a variant), each with an optional
// error bar: the chart for a quantity that has no x axis of its own, such as
// a per-layer ratio of a one-layer model.
type DotPanel struct {
	Title, XLabel, YLabel string
	Labels                []string  // one per category, in order
	Y                     []float64 // the values; NaN: no point
	// Lo and Hi, when set (same length as Y), draw an error bar, e.g. the
	// mean ± one standard deviation over seeds.
	Lo, Hi []float64
	HLines []HLine
	// LogY draws the y axis on a log scale when the positive values span
	// more than a factor of 20.
	LogY bool
}

// DotChart is one or more DotPanels side by side, sharing their categories'
// colours with the line charts (category i has series i's colour and
// marker).
type DotChart struct {
	Title  string // above the panels
	Panels []DotPanel
	Note   string // a footnote under the panels
}

// Dots draws a DotChart. It fails when no panel has a finite value.
func Dots(c DotChart) (*Figure, error) {
	n, points := 0, 0
	for _, p := range c.Panels {
		n = max(n, len(p.Labels))
		for _, v := range p.Y {
			if finite(v) {
				points++
			}
		}
	}
	if points == 0 || n == 0 {
		return nil, errNoData
	}
	plots := make([]*gplot.Plot, len(c.Panels))
	for pi, pn := range c.Panels {
		p := newPlot(pn.Title, pn.XLabel, pn.YLabel)
		p.Add(plotter.NewGrid())
		ys := append(append(append([]float64{}, pn.Y...), pn.Lo...), pn.Hi...)
		log := pn.LogY && wantLog([]Series{{Y: ys}})
		if log {
			p.Y.Scale = gplot.LogScale{}
			p.Y.Tick.Marker = logTicks{}
		} else {
			p.Y.Tick.Marker = niceTicks{}
		}
		p.X.Min, p.X.Max = -0.5, float64(n)-0.5
		p.X.Tick.Marker = labelTicks(pn.Labels)
		if longest(pn.Labels) > 4 || len(pn.Labels) > 3 {
			// Slanted, so that neighbours' names do not run into each other.
			p.X.Tick.Label.Rotation = math.Pi / 6
			p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
		}
		for i, y := range pn.Y {
			if !finite(y) || (log && y <= 0) {
				continue
			}
			col := seriesColor(i)
			if i < len(pn.Lo) && i < len(pn.Hi) {
				lo, hi := pn.Lo[i], pn.Hi[i]
				if log {
					lo = math.Max(lo, y/1e3) // a log axis has no room below 0
				}
				if finite(lo) && finite(hi) && hi > lo {
					bar, err := plotter.NewLine(plotter.XYs{{X: float64(i), Y: lo}, {X: float64(i), Y: hi}})
					if err != nil {
						return nil, err
					}
					bar.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(1.6)}
					p.Add(bar)
					for _, end := range []float64{lo, hi} {
						cap, err := plotter.NewLine(plotter.XYs{{X: float64(i) - 0.12, Y: end}, {X: float64(i) + 0.12, Y: end}})
						if err != nil {
							return nil, err
						}
						cap.LineStyle = bar.LineStyle
						p.Add(cap)
					}
				}
			}
			dot, err := plotter.NewScatter(plotter.XYs{{X: float64(i), Y: y}})
			if err != nil {
				return nil, fmt.Errorf("plot: %s: %w", pn.Labels[i], err)
			}
			dot.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: seriesShape(i)}
			p.Add(dot)
		}
		for _, h := range pn.HLines {
			if !finite(h.Y) || (log && h.Y <= 0) {
				continue
			}
			l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: h.Y}, {X: float64(n) - 0.5, Y: h.Y}})
			if err != nil {
				return nil, err
			}
			l.LineStyle = draw.LineStyle{Color: color.Gray{0x55}, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
			p.Add(l)
		}
		if !log && p.Y.Max > p.Y.Min {
			pad := (p.Y.Max - p.Y.Min) * 0.08 // headroom for the markers
			p.Y.Max += pad
			p.Y.Min -= pad
		} else if !log {
			p.Y.Min, p.Y.Max = p.Y.Min-1, p.Y.Max+1 // one value: a range around it
		}
		plots[pi] = p
	}

	pw := max(2.6*vg.Inch, vg.Length(n)*0.55*vg.Inch)
	// Slanted labels reach below the axis by half their width, and left of
	// their category by 0.87 of it: the first one needs room on the left.
	labelW := vg.Length(0)
	if plots[0].X.Tick.Label.Rotation != 0 {
		for _, l := range c.Panels[0].Labels {
			labelW = max(labelW, textStyle(10).Width(l))
		}
	}
	labelH := min(labelW/2, 2*vg.Inch)
	padLeft := max(vg.Points(4), labelW*0.87-pw/vg.Length(2*n))
	h := 3.4*vg.Inch + labelH
	titleH := vg.Length(0)
	if c.Title != "" {
		titleH = 0.35 * vg.Inch
	}
	noteH := vg.Length(0)
	if c.Note != "" {
		noteH = 0.3 * vg.Inch
	}
	width := max(pw*vg.Length(len(plots))+padLeft+0.4*vg.Inch, textStyle(14).Width(c.Title)+0.4*vg.Inch, textStyle(9.5).Width(c.Note)+0.4*vg.Inch)
	fig := &Figure{Width: width, Height: h + titleH + noteH}
	fig.draw = func(dc draw.Canvas) {
		if c.Title != "" {
			sty := textStyle(14)
			sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
			dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - vg.Points(6)}, c.Title)
		}
		if c.Note != "" {
			sty := textStyle(9.5)
			sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
			dc.FillText(sty, vg.Point{X: dc.Min.X + vg.Points(8), Y: dc.Min.Y + vg.Points(6)}, c.Note)
		}
		area := draw.Crop(dc, padLeft, 0, noteH, -titleH)
		tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Points(18) + padLeft, PadTop: vg.Points(6),
			PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(10)}
		canvases := gplot.Align([][]*gplot.Plot{plots}, tiles, area)
		for i, p := range plots {
			p.Draw(canvases[0][i])
		}
	}
	return fig, nil
}

// labelTicks labels the categories 0..n-1 with their names.
type labelTicks []string

func (l labelTicks) Ticks(lo, hi float64) []gplot.Tick {
	ts := make([]gplot.Tick, len(l))
	for i, s := range l {
		ts[i] = gplot.Tick{Value: float64(i), Label: s}
	}
	return ts
}

func longest(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, len([]rune(s)))
	}
	return n
}

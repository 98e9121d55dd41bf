// Package plot draws the standard figures of an attention-sink study from
// sinkrun's results (gonum.org/v1/plot): emergence curves of Sink_1, mean
// alpha_1 and validation loss against training tokens, one line per variant;
// a layer x head heat map of alpha_1 per run; massive-activation ratios per
// layer; and the attention map of one probe sequence.
//
// The chart functions (Lines, Heatmap, AttentionMap, HeadHeatmap) take plain
// data and return a Figure; Experiment and All read a results directory and
// write every figure as PNG and SVG.
package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/sinkrun/sinkrun/internal/atomicfile"
)

// Image formats a Figure can be written in.
const (
	PNG = "png"
	SVG = "svg"
)

// DefaultFormats are the formats Save writes when given none.
var DefaultFormats = []string{PNG, SVG}

// DPI is the resolution of PNG output.
const DPI = 150

// Figure is a drawing of a given size that can be written as PNG or SVG.
type Figure struct {
	Width, Height vg.Length
	draw          func(dc draw.Canvas)
}

// Draw draws the figure onto a canvas of its size.
func (f *Figure) Draw(dc draw.Canvas) { f.draw(dc) }

// WriteTo writes the figure in format (PNG or SVG) to w.
func (f *Figure) WriteTo(w io.Writer, format string) (err error) {
	defer func() {
		// gonum reports some drawing errors (bad ranges, fonts) by panicking.
		if r := recover(); r != nil {
			err = fmt.Errorf("plot: drawing failed: %v", r)
		}
	}()
	switch strings.ToLower(format) {
	case PNG:
		c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
		f.draw(draw.New(c))
		_, err = vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	case SVG:
		c := vgsvg.New(f.Width, f.Height)
		dc := draw.New(c)
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
		f.draw(dc)
		var buf bytes.Buffer
		if _, err = c.WriteTo(&buf); err != nil {
			return err
		}
		// Fonts are not embedded (that would add ~0.5 MB per file): name
		// Arial and Helvetica as fallbacks, which share Liberation Sans's
		// metrics, so text keeps its width where Liberation is missing.
		_, err = w.Write(bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans"),
			[]byte("font-family:Liberation Sans,Arial,Helvetica,sans-serif")))
	default:
		return fmt.Errorf("plot: unknown image format %q (want png or svg)", format)
	}
	return err
}

// Save writes the figure to base.<format> for each format (DefaultFormats if
// none), each through a temporary file renamed into place, and returns the
// paths written.
func (f *Figure) Save(base string, formats ...string) ([]string, error) {
	if len(formats) == 0 {
		formats = DefaultFormats
	}
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	var paths []string
	for _, format := range formats {
		path := base + "." + strings.ToLower(format)
		if err := f.saveOne(path, format); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func (f *Figure) saveOne(path, format string) error {
	// Figures are for sharing: 0644.
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return f.WriteTo(w, format) }); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	return nil
}

// Text styles: a sans-serif face at readable sizes.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

func textStyle(size vg.Length) text.Style {
	return text.Style{Color: color.Black, Font: font.From(sans, size), Handler: gplot.DefaultTextHandler}
}

// newPlot returns a plot with the package's fonts and a light grid.
func newPlot(title, xLabel, yLabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 13)
	p.Title.Padding = 4
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 12)
		a.Tick.Label.Font = font.From(sans, 10)
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.Legend.TextStyle.Font = font.From(sans, 10)
	return p
}

// Colours of successive series: Tableau 10, distinguishable and
// reasonably colour-blind safe.
var seriesColors = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

func seriesColor(i int) color.RGBA { return seriesColors[i%len(seriesColors)] }

// Glyph shapes and dash patterns cycle more slowly than colours, so that
// series 0 and 10 still differ.
var (
	seriesShapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
		draw.PyramidGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}}
	seriesDashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)},
		{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)}}
)

func seriesShape(i int) draw.GlyphDrawer {
	return seriesShapes[(i/len(seriesColors)+i)%len(seriesShapes)]
}

func seriesDash(i int) []vg.Length { return seriesDashes[(i/len(seriesColors))%len(seriesDashes)] }

// niceTicks puts about six labelled ticks on round values (steps of 1,
// 2, 2.5 or 5 times a power of ten) with unlabelled minor ticks between
// them; si labels them with SI suffixes (12k, 1.5M).
type niceTicks struct{ si bool }

func (t niceTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return gplot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step, minors := 10*mag, 5
	for _, m := range []struct {
		mult   float64
		minors int
	}{{1, 5}, {2, 4}, {2.5, 5}, {5, 5}} {
		if m.mult*mag >= raw*0.999 {
			step, minors = m.mult*mag, m.minors
			break
		}
	}
	prec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	if math.Abs(step/math.Pow(10, math.Floor(math.Log10(step)+1e-9))-2.5) < 1e-9 {
		prec++
	}
	var ts []gplot.Tick
	minor := step / float64(minors)
	for i := math.Floor(lo / minor); i*minor <= hi+minor*1e-9; i++ {
		v := i * minor
		if v < lo-minor*1e-9 {
			continue
		}
		if math.Abs(math.Remainder(v, step)) < minor*1e-6 {
			v = math.Round(v/step) * step
			if v == 0 {
				v = 0 // no "-0"
			}
			label := strconv.FormatFloat(v, 'f', prec, 64)
			if t.si {
				label = SI(v)
			}
			ts = append(ts, gplot.Tick{Value: v, Label: label})
		} else {
			ts = append(ts, gplot.Tick{Value: v})
		}
	}
	return ts
}

// SI formats n with an SI suffix: 950, 12k, 1.5M, 2G.
func SI(n float64) string {
	abs := math.Abs(n)
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if abs >= u.div {
			return strconv.FormatFloat(n/u.div, 'g', 3, 64) + u.suffix
		}
	}
	return strconv.FormatFloat(n, 'g', 3, 64)
}

// intTicks puts a labelled tick on integers, thinned to at most about 16.
type intTicks struct{}

func (intTicks) Ticks(min, max float64) []gplot.Tick {
	lo, hi := int(math.Ceil(min)), int(math.Floor(max))
	step := 1
	for (hi-lo)/step > 16 {
		switch {
		case step == 1:
			step = 2
		case step == 2:
			step = 4
		default:
			step *= 2
		}
	}
	var ts []gplot.Tick
	for v := lo; v <= hi; v++ {
		if v%step == 0 {
			ts = append(ts, gplot.Tick{Value: float64(v), Label: strconv.Itoa(v)})
		}
	}
	return ts
}

// posTicks marks the n cells of a heat map axis (at 0 .. n-1): each is
// labelled with labels[i], or numbered i+base, thinned to at most about 16
// labels (keeping the first cell and multiples of a round step), with
// unlabelled minor ticks on the others when n <= 64. flip reverses the
// order (cell i drawn at n-1-i).
type posTicks struct {
	n, base int
	labels  []string
	flip    bool
}

func (t posTicks) Ticks(lo, hi float64) []gplot.Tick {
	step := 1
	for _, s := range []int{1, 2, 4, 5, 8, 10, 16, 20, 25, 50, 100, 200, 500, 1000} {
		step = s
		if t.n/s <= 16 {
			break
		}
	}
	var ts []gplot.Tick
	for i := 0; i < t.n; i++ {
		at := float64(i)
		if t.flip {
			at = float64(t.n - 1 - i)
		}
		label := ""
		if i == 0 || (i+t.base)%step == 0 {
			if t.labels != nil && i < len(t.labels) {
				label = t.labels[i]
			} else if t.labels == nil {
				label = strconv.Itoa(i + t.base)
			}
		}
		if label == "" && t.n > 64 {
			continue
		}
		ts = append(ts, gplot.Tick{Value: at, Label: label})
	}
	return ts
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

var errNoData = errors.New("plot: nothing to plot")

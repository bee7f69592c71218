package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// plotFile is a plot written next to RESULTS.md.
type plotFile struct {
	Name  string // file name
	Title string
}

// writePlots writes the plots into dir and remembers them for markdown.
func (rep *report) writePlots(dir string) error {
	rep.plots = nil
	for _, p := range []struct {
		name, title string
		make        func() (*plot.Plot, *plot.Legend, error)
	}{
		{"throughput-mbps.png", "Pub/sub throughput (MB/s) vs message size", func() (*plot.Plot, *plot.Legend, error) {
			return rep.sizePlot("Pub/sub 1→1 throughput", "MB/s (payload, log)", func(w row) float64 { return w.MBPerSec })
		}},
		{"throughput-msgs.png", "Pub/sub message rate (msgs/s) vs message size", func() (*plot.Plot, *plot.Legend, error) {
			return rep.sizePlot("Pub/sub 1→1 message rate", "messages/s (log)", func(w row) float64 { return w.MsgsPerSec })
		}},
		{"latency.png", "Req/rep round-trip latency percentiles (log axis; bars: lowest to highest run)", rep.latencyPlot},
		{"calls.png", fmt.Sprintf("Req/rep calls per second, %d in flight", rep.Outstanding), rep.callsPlot},
	} {
		pl, leg, err := p.make()
		if err != nil {
			return err
		}
		if pl == nil {
			continue
		}
		if err := savePNG(pl, leg, filepath.Join(dir, p.name)); err != nil {
			return err
		}
		rep.plots = append(rep.plots, plotFile{Name: p.name, Title: p.title})
	}
	return nil
}

func (rep *report) plotLinks(b *strings.Builder) {
	if len(rep.plots) == 0 {
		return
	}
	b.WriteString("\n## Plots\n")
	for _, p := range rep.plots {
		fmt.Fprintf(b, "\n![%s](%s)\n", p.Title, p.Name)
	}
}

// sizePlot draws one line per system: f of its pub/sub rows against the
// message size, both axes logarithmic.
func (rep *report) sizePlot(title, ylabel string, f func(row) float64) (*plot.Plot, *plot.Legend, error) {
	rows := rep.rowsOf(grpPubSub)
	var systems []string
	var sizes []int
	for _, w := range rows {
		if !slices.Contains(systems, w.System) {
			systems = append(systems, w.System)
		}
		if !slices.Contains(sizes, w.Size) {
			sizes = append(sizes, w.Size)
		}
	}
	if len(sizes) < 2 {
		return nil, nil, nil
	}
	slices.Sort(sizes)
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "message size (log)"
	p.Y.Label.Text = ylabel
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var ticks []plot.Tick
	for _, s := range sizes {
		ticks = append(ticks, plot.Tick{Value: float64(s), Label: humanSize(s)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	drawn := 0
	for i, sys := range systems {
		var pts plotter.XYs
		for _, w := range rows {
			if w.System == sys && w.usable() && f(w) > 0 {
				pts = append(pts, plotter.XY{X: float64(w.Size), Y: f(w)})
			}
		}
		if len(pts) == 0 {
			continue
		}
		if err := addLine(p, &leg, i, sys, pts); err != nil {
			return nil, nil, err
		}
		drawn++
	}
	if drawn == 0 {
		return nil, nil, nil
	}
	return p, &leg, nil
}

// latencyPlot draws p50, p99 and p99.9 of each system's req/rep latency
// on a log axis, each median with a bar from the lowest to the highest
// run (the lines sit a little apart so that the bars do not cover each
// other).
func (rep *report) latencyPlot() (*plot.Plot, *plot.Legend, error) {
	p := plot.New()
	p.Title.Text = "Req/rep round trip, one call in flight"
	python := rep.systemNames()[sysPython]
	p.X.Label.Text = "percentile (bars: lowest to highest run)"
	p.Y.Label.Text = "round trip (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.TickerFunc(logTicks125)
	p.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "p50"}, {Value: 1, Label: "p99"}, {Value: 2, Label: "p99.9"}})
	p.X.Min, p.X.Max = -0.3, 2.3
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	type line struct {
		i int
		w row
	}
	var lines []line
	for i, w := range rep.rowsOf(grpLatency) {
		if !w.usable() || w.P50us <= 0 {
			continue
		}
		if python != "" && w.System == python {
			// About 200 ms (it polls every 10 ms and leaves Nagle on):
			// even on a log axis it would squeeze every other line.
			p.Title.Text += fmt.Sprintf(" (%s, %s at p50, left out)", python, micros(w.P50us))
			continue
		}
		lines = append(lines, line{i, w})
	}
	if len(lines) == 0 {
		return nil, nil, nil
	}
	lo, hi := math.Inf(1), 0.0
	for k, l := range lines {
		dx := (float64(k) - float64(len(lines)-1)/2) * 0.04
		var pts plotter.XYs
		var errs plotter.YErrors
		for x, name := range []string{figP50, figP99, figP999} {
			v := l.w.value(name)
			r, ok := l.w.Ranges[name]
			if !ok {
				r = [2]float64{v, v}
			}
			pts = append(pts, plotter.XY{X: float64(x) + dx, Y: v})
			errs = append(errs, struct{ Low, High float64 }{v - r[0], r[1] - v})
			lo, hi = min(lo, r[0], v), max(hi, r[1], v)
		}
		if err := addLine(p, &leg, l.i, l.w.System, pts); err != nil {
			return nil, nil, err
		}
		bars, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{pts, errs})
		if err != nil {
			return nil, nil, err
		}
		c, _, _ := lineStyle(l.w.System, l.i)
		bars.LineStyle.Color = c
		bars.CapWidth = vg.Points(4)
		p.Add(bars)
	}
	// Room around the lines, to the next 1, 2 or 5 × 10ⁿ.
	p.Y.Min, p.Y.Max = step125(lo, false), step125(hi, true)
	return p, &leg, nil
}

// step125 returns the nearest 1, 2 or 5 × 10ⁿ below v (or, with up,
// above it).
func step125(v float64, up bool) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	if up {
		for _, m := range []float64{1, 2, 5, 10} {
			if m*e >= v {
				return m * e
			}
		}
	}
	for _, m := range []float64{5, 2, 1} {
		if m*e <= v {
			return m * e
		}
	}
	return e
}

// callsPlot draws one bar per system: its req/rep calls/s with
// -outstanding calls in flight (the calls group). The y axis is
// logarithmic when the bars span a factor of 10 or more.
func (rep *report) callsPlot() (*plot.Plot, *plot.Legend, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Req/rep calls per second, %d in flight", rep.Outstanding)
	p.Y.Label.Text = "calls/s"
	type bar struct {
		i    int // colour: the row's index, as in latency.png
		name string
		v    float64
	}
	var bars []bar
	lo, hi := math.Inf(1), 0.0
	for i, w := range rep.rowsOf(grpCalls) {
		if !w.usable() || w.CallsPerSec <= 0 {
			continue
		}
		bars = append(bars, bar{i, w.System, w.CallsPerSec})
		lo, hi = min(lo, w.CallsPerSec), max(hi, w.CallsPerSec)
	}
	if len(bars) == 0 {
		return nil, nil, nil
	}
	// A bar starts at base: 0 on a linear axis; on a log axis (which has
	// no 0) a power of ten below the smallest bar, made by stacking every
	// bar on an undrawn one of that height.
	base := 0.0
	if hi >= 10*lo {
		base = math.Pow(10, math.Floor(math.Log10(lo/2)))
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Label.Text = "calls/s (log)"
	}
	if base == 0 {
		p.Y.Tick.Marker = plot.TickerFunc(linearTicks)
	}
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	var ticks []plot.Tick
	var labels plotter.XYLabels
	for x, br := range bars {
		floor, err := plotter.NewBarChart(plotter.Values{base}, vg.Points(36))
		if err != nil {
			return nil, nil, err
		}
		bc, err := plotter.NewBarChart(plotter.Values{br.v - base}, vg.Points(36))
		if err != nil {
			return nil, nil, err
		}
		floor.XMin = float64(x)
		bc.StackOn(floor)
		bc.Color, _, _ = lineStyle(br.name, br.i)
		bc.LineStyle.Width = 0
		p.Add(bc)
		leg.Add(br.name, bc)
		ticks = append(ticks, plot.Tick{Value: float64(x), Label: br.name})
		labels.XYs = append(labels.XYs, plotter.XY{X: float64(x), Y: br.v})
		labels.Labels = append(labels.Labels, thousands(br.v))
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.X.Min, p.X.Max = -0.6, float64(len(bars))-0.4
	p.Y.Min, p.Y.Max = base, hi*1.12 // room for the labels
	if base > 0 {
		p.Y.Max = hi * 1.8
	}
	lb, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].XAlign, lb.TextStyle[i].YAlign = draw.XCenter, draw.YBottom
	}
	lb.Offset = vg.Point{Y: vg.Points(2)}
	p.Add(lb)
	return p, &leg, nil
}

// logTicks125 marks a log axis of microseconds at 1, 2 and 5 × 10ⁿ with
// labels ("20 µs", "500 µs", "1 ms") and at the other whole multiples
// without, so that a reader sees the axis is logarithmic and can read
// values between the powers of ten.
func logTicks125(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for m := 1.0; m <= 9; m++ {
			v := m * math.Pow(10, e)
			if v < lo*0.999 || v > hi*1.001 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				// micros writes "20.0 µs", "2.00 ms": whole numbers here.
				t.Label = strings.Replace(strings.Replace(micros(v), ".00 ", " ", 1), ".0 ", " ", 1)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// linearTicks marks about five round values (1, 2 or 5 × 10ⁿ apart)
// between min and max, written with thousands separators.
func linearTicks(lo, hi float64) []plot.Tick {
	if hi <= lo {
		return nil
	}
	mag := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} { // (hi-lo)/mag is in [5, 50)
		if step = m * mag; (hi-lo)/step <= 6 {
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: thousands(v)})
	}
	return ticks
}

// savePNG draws p with its legend to the right of it (where no line can
// hide under it) and writes a PNG.
func savePNG(p *plot.Plot, leg *plot.Legend, path string) error {
	const w, h, lw = 8 * vg.Inch, 4.5 * vg.Inch, 1.9 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
	leg.Top, leg.Left = true, true
	leg.YOffs = -vg.Points(24)
	leg.Draw(draw.Crop(dc, w-lw, 0, 0, 0))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func addLine(p *plot.Plot, leg *plot.Legend, i int, name string, pts plotter.XYs) error {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	c, dashes, width := lineStyle(name, i)
	l.Color, l.Dashes, l.Width = c, dashes, width
	s.Color = c
	s.Shape = plotutil.Shape(i)
	p.Add(l, s)
	leg.Add(name, l, s)
	return nil
}

// lineStyle gives Go yoton a thick black line and the raw TCP baselines
// thin grey dashes, so that neither is taken for the other; every other
// system gets the palette's colour for its index.
func lineStyle(name string, i int) (color.Color, []vg.Length, vg.Length) {
	switch {
	case strings.HasPrefix(name, "Go yoton"):
		return color.Black, nil, vg.Points(2.5)
	case strings.HasPrefix(name, "raw TCP"):
		return color.Gray{Y: 140}, []vg.Length{vg.Points(4), vg.Points(3)}, vg.Points(1.2)
	}
	return plotutil.Color(i), plotutil.Dashes(i / 7), vg.Points(1.5)
}

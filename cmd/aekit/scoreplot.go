package main

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/aekit/aekit/internal/atomicfile"
)

// plotScores draws the histograms of the scores of normal and anomalous
// rows (each normalised to area 1, 50 bins over the common range) and,
// when t is not nil, the threshold as a vertical line, to a PNG file
// written atomically.
func plotScores(name string, s []float32, anomalous []bool, t *float32, metric string) error {
	var norm, anom plotter.Values
	for i, v := range s {
		if anomalous[i] {
			anom = append(anom, float64(v))
		} else {
			norm = append(norm, float64(v))
		}
	}
	lo, hi := s[0], s[0]
	for _, v := range s {
		lo, hi = min(lo, v), max(hi, v)
	}
	if t != nil {
		lo, hi = min(lo, *t), max(hi, *t)
	}
	p := plot.New()
	p.Title.Text = "reconstruction error (" + metric + ")"
	p.X.Label.Text = metric + " per row"
	p.Y.Label.Text = "density"
	p.X.Min, p.X.Max = float64(lo), float64(hi)
	const bins = 50
	width := (float64(hi) - float64(lo)) / bins
	for _, g := range []struct {
		label string
		v     plotter.Values
		c     color.NRGBA
	}{{"normal", norm, color.NRGBA{R: 31, G: 119, B: 180, A: 160}}, {"anomalous", anom, color.NRGBA{R: 255, G: 127, B: 14, A: 160}}} {
		if len(g.v) == 0 {
			continue
		}
		h, err := plotter.NewHist(g.v, bins)
		if err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
		if width > 0 {
			// Common bins, so the two histograms line up.
			b := make([]plotter.HistogramBin, bins)
			for i := range b {
				b[i].Min, b[i].Max = float64(lo)+float64(i)*width, float64(lo)+float64(i+1)*width
			}
			for _, v := range g.v {
				i := min(int((v-float64(lo))/width), bins-1)
				b[i].Weight++
			}
			h.Bins, h.Width = b, width
		}
		h.Normalize(1)
		h.FillColor = g.c
		h.LineStyle.Width = 0
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("%s (%d)", g.label, len(g.v)), h)
	}
	if t != nil {
		_, ymax := p.Y.Min, p.Y.Max
		l, err := plotter.NewLine(plotter.XYs{{X: float64(*t), Y: 0}, {X: float64(*t), Y: ymax}})
		if err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
		l.Color = color.RGBA{R: 214, G: 39, B: 40, A: 255}
		l.Width = vg.Points(1.5)
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("threshold %.4g", *t), l)
	}
	p.Legend.Top = true
	return writePlot(name, p)
}

// writePlot draws p at 6×4 inches to a PNG file, written atomically;
// errors are prefixed with --plot.
func writePlot(name string, p *plot.Plot) error {
	wt, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	return atomicfile.WriteFile(name, buf.Bytes())
}

package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/aekit/aekit/internal/atomicfile"
	aert "github.com/aekit/aekit/runtime"
	"github.com/aekit/aekit/train"
)

// plotHistory draws the loss (and validation loss) per epoch to a PNG file,
// written atomically.
func plotHistory(name string, h *train.History) error {
	p := plot.New()
	p.Title.Text = "training history"
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "loss"
	p.Add(plotter.NewGrid())
	curve := func(vals []float64) plotter.XYs {
		xy := make(plotter.XYs, len(vals))
		for i, v := range vals {
			xy[i].X, xy[i].Y = float64(h.Epoch[i]+1), v
		}
		return xy
	}
	l, err := plotter.NewLine(curve(h.Loss))
	if err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	l.Color = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	l.Width = vg.Points(1.5)
	p.Add(l)
	p.Legend.Add("loss", l)
	if h.ValLoss != nil {
		v, err := plotter.NewLine(curve(h.ValLoss))
		if err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
		v.Color = color.RGBA{R: 255, G: 127, B: 14, A: 255}
		v.Width = vg.Points(1.5)
		p.Add(v)
		p.Legend.Add("val_loss", v)
	}
	p.Legend.Top = true
	return writePlot(name, p)
}

// reconImage writes a grid of up to 10 samples of x (n rows) as square
// grey images: originals in the top row, m's reconstructions below. Values
// are clipped to [0, 1].
// reconFits reports whether --recon can draw m's inputs and outputs: square
// images of the same size.
func reconFits(m *aert.Model) error {
	w := m.InputWidth()
	side := int(math.Round(math.Sqrt(float64(w))))
	if side*side != w || m.OutputWidth() != w {
		return fmt.Errorf("--recon: needs square images in and out; the model maps %d to %d values", w, m.OutputWidth())
	}
	return nil
}

func reconImage(name string, m *aert.Model, x []float32, n int) error {
	if err := reconFits(m); err != nil {
		return err
	}
	w := m.InputWidth()
	side := int(math.Round(math.Sqrt(float64(w))))
	k := min(n, 10)
	if k == 0 {
		return fmt.Errorf("--recon: no samples")
	}
	orig := x[:k*w]
	rec, err := m.Predict(nil, orig)
	if err != nil {
		return fmt.Errorf("--recon: %w", err)
	}
	const pad = 4
	zoom := max(1, 84/side) // 28×28 images drawn 3× larger
	cell := side * zoom
	img := image.NewGray(image.Rect(0, 0, k*(cell+pad)+pad, 2*(cell+pad)+pad))
	for i := range img.Pix {
		img.Pix[i] = 64
	}
	for r, src := range [][]float32{orig, rec} {
		for s := 0; s < k; s++ {
			x0, y0 := pad+s*(cell+pad), pad+r*(cell+pad)
			for p := 0; p < w; p++ {
				v := min(max(src[s*w+p], 0), 1)
				g := color.Gray{Y: uint8(math.Round(float64(v) * 255))}
				for dy := 0; dy < zoom; dy++ {
					for dx := 0; dx < zoom; dx++ {
						img.SetGray(x0+(p%side)*zoom+dx, y0+(p/side)*zoom+dy, g)
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("--recon: %w", err)
	}
	return atomicfile.WriteFile(name, buf.Bytes())
}

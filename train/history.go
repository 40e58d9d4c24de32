package train

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// WriteCSV writes h to w as CSV, as aekit train --history does: the
// header "epoch,loss,val_loss,seconds", then one line per epoch with the
// epoch counted from 1 (as Keras's log counts), the losses in the
// shortest decimal form that reads back as the same float64, val_loss
// empty without validation data, and the seconds rounded to 3 decimals.
func (h *History) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("epoch,loss,val_loss,seconds\n")
	for i, e := range h.Epoch {
		val := ""
		if h.ValLoss != nil {
			val = strconv.FormatFloat(h.ValLoss[i], 'g', -1, 64)
		}
		fmt.Fprintf(bw, "%d,%s,%s,%.3f\n", e+1, strconv.FormatFloat(h.Loss[i], 'g', -1, 64), val, h.Seconds[i])
	}
	return bw.Flush()
}

// WriteCSV writes h to w as CSV, as aekit train --history does for a VAE:
// the header "epoch,loss,reconstruction_loss,kl_loss,seconds", then one
// line per epoch with the epoch counted from 1, the losses in the
// shortest decimal form that reads back as the same float64 and the
// seconds rounded to 3 decimals.
func (h *VAEHistory) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("epoch,loss,reconstruction_loss,kl_loss,seconds\n")
	for i, e := range h.Epoch {
		fmt.Fprintf(bw, "%d,%g,%g,%g,%.3f\n", e+1, h.Loss[i], h.Reconstruction[i], h.KL[i], h.Seconds[i])
	}
	return bw.Flush()
}

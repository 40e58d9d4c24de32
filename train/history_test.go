package train

import (
	"bytes"
	"errors"
	"testing"
)

func TestHistoryCSV(t *testing.T) {
	for _, c := range []struct {
		h    History
		want string
	}{
		{History{Epoch: []int{0, 1}, Loss: []float64{0.5, 1.0 / 3}, ValLoss: []float64{0.25, 1e-9}, Seconds: []float64{1.23456, 0}},
			"epoch,loss,val_loss,seconds\n1,0.5,0.25,1.235\n2,0.3333333333333333,1e-09,0.000\n"},
		{History{Epoch: []int{4}, Loss: []float64{2}, Seconds: []float64{10}},
			"epoch,loss,val_loss,seconds\n5,2,,10.000\n"},
		{History{}, "epoch,loss,val_loss,seconds\n"},
	} {
		var b bytes.Buffer
		if err := c.h.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("WriteCSV:\n%s\nwant\n%s", b.String(), c.want)
		}
	}
	a, b3 := 0.1, 0.2 // not constants: 0.1+0.2 at run time is 0.30000000000000004
	v := VAEHistory{Epoch: []int{0}, Loss: []float64{a + b3}, Reconstruction: []float64{0.25}, KL: []float64{3e-20}, Seconds: []float64{0.0005}}
	var b bytes.Buffer
	if err := v.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if want := "epoch,loss,reconstruction_loss,kl_loss,seconds\n1,0.30000000000000004,0.25,3e-20,0.001\n"; b.String() != want {
		t.Errorf("VAE WriteCSV:\n%s\nwant\n%s", b.String(), want)
	}
	if err := v.WriteCSV(failWriter{}); err == nil {
		t.Error("a failing writer gave no error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

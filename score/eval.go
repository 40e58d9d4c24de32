package score

import (
	"fmt"
	"math"
	"slices"
)

// Confusion is a detector's result at one threshold: rows with a score
// greater than Threshold are flagged anomalous.
type Confusion struct {
	// Threshold is the threshold, in the metric's units.
	Threshold float32 `json:"threshold"`
	// TP, FP, FN and TN count anomalous rows flagged, normal rows
	// flagged, anomalous rows missed and normal rows passed.
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
	TN int `json:"tn"`
	// Precision is TP/(TP+FP) (0 when nothing is flagged), Recall
	// TP/(TP+FN), F1 their harmonic mean (0 when both are 0).
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// Report is how well scores separate labelled rows.
type Report struct {
	// Rows and Anomalies count the rows and those labelled 1.
	Rows      int `json:"rows"`
	Anomalies int `json:"anomalies"`
	// ROCAUC is the area under the ROC curve, ties counted half.
	ROCAUC float64 `json:"roc_auc"`
	// AveragePrecision is the area under the precision-recall curve as
	// scikit-learn's average_precision_score computes it.
	AveragePrecision float64 `json:"pr_auc"`
	// BestF1 is the result at the threshold with the highest F1 (the
	// highest such threshold when several tie).
	BestF1 Confusion `json:"best_f1"`
}

// At returns the confusion counts of scores against labels (1 =
// anomalous, 0 = normal) at threshold t.
func At(scores []float32, labels []bool, t float32) Confusion {
	c := Confusion{Threshold: t}
	for i, s := range scores {
		switch flagged := s > t; {
		case flagged && labels[i]:
			c.TP++
		case flagged:
			c.FP++
		case labels[i]:
			c.FN++
		default:
			c.TN++
		}
	}
	c.fill()
	return c
}

func (c *Confusion) fill() {
	c.Precision, c.Recall, c.F1 = 0, 0, 0
	if c.TP+c.FP > 0 {
		c.Precision = float64(c.TP) / float64(c.TP+c.FP)
	}
	if c.TP+c.FN > 0 {
		c.Recall = float64(c.TP) / float64(c.TP+c.FN)
	}
	if c.Precision+c.Recall > 0 {
		c.F1 = 2 * c.Precision * c.Recall / (c.Precision + c.Recall)
	}
}

// Labels converts 0/1 values (a labels .npy read as float32) to bools. Any
// other value is an error wrapping ErrInput naming the row.
func Labels(v []float32) ([]bool, error) {
	b := make([]bool, len(v))
	for i, x := range v {
		switch x {
		case 0:
		case 1:
			b[i] = true
		default:
			return nil, fmt.Errorf("%w: label %d is %g, not 0 or 1", ErrInput, i, x)
		}
	}
	return b, nil
}

// Evaluate measures how well scores separate the rows labelled anomalous
// (true) from the normal ones. Both kinds must be present and no score may
// be NaN. It takes O(n log n) time.
func Evaluate(scores []float32, labels []bool) (*Report, error) {
	n := len(scores)
	if n != len(labels) {
		return nil, fmt.Errorf("%w: %d scores but %d labels", ErrInput, n, len(labels))
	}
	r := &Report{Rows: n}
	for i, s := range scores {
		if math.IsNaN(float64(s)) {
			return nil, fmt.Errorf("%w: score %d is NaN", ErrInput, i)
		}
		if labels[i] {
			r.Anomalies++
		}
	}
	pos, neg := r.Anomalies, n-r.Anomalies
	if pos == 0 || neg == 0 {
		return nil, fmt.Errorf("%w: %d anomalous and %d normal rows; both kinds are needed", ErrInput, pos, neg)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	// Decreasing score.
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	// Walk the distinct scores from the highest: after each group, the
	// rows flagged by a threshold just below it are those seen so far.
	var tp, fp int
	var auc, ap float64
	best := Confusion{F1: -1}
	for k := 0; k < n; {
		s := scores[idx[k]]
		gtp, gfp := 0, 0
		for ; k < n && scores[idx[k]] == s; k++ {
			if labels[idx[k]] {
				gtp++
			} else {
				gfp++
			}
		}
		// ROC: trapezoid over the group (ties counted half).
		auc += float64(gfp) * (float64(tp) + float64(gtp)/2)
		tp, fp = tp+gtp, fp+gfp
		prec := float64(tp) / float64(tp+fp)
		ap += float64(gtp) / float64(pos) * prec
		// The threshold flagging exactly the rows seen so far is the next
		// lower score (or just below the lowest).
		t := math.Nextafter32(s, float32(math.Inf(-1)))
		if k < n {
			t = scores[idx[k]]
		}
		c := Confusion{Threshold: t, TP: tp, FP: fp, FN: pos - tp, TN: neg - fp}
		c.fill()
		if c.F1 > best.F1 {
			best = c
		}
	}
	r.ROCAUC = auc / (float64(pos) * float64(neg))
	r.AveragePrecision = ap
	r.BestF1 = best
	return r, nil
}

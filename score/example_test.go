package score_test

import (
	"fmt"

	"github.com/aekit/aekit/score"
)

// Calibrate a threshold on the scores of normal rows, then measure how
// well the scores separate labelled rows.
func Example() {
	normal := []float32{0.010, 0.012, 0.011, 0.013, 0.009, 0.015, 0.012, 0.010, 0.014, 0.011}
	th, err := score.Calibrate(normal, score.MSE, 0.9)
	if err != nil {
		panic(err)
	}
	fmt.Printf("threshold %.4f (%s)\n", th.Value, score.MetricName(th.Metric))

	scores := []float32{0.011, 0.030, 0.012, 0.045, 0.014, 0.016}
	labels := []bool{false, true, false, true, false, true}
	rep, err := score.Evaluate(scores, labels)
	if err != nil {
		panic(err)
	}
	c := score.At(scores, labels, th.Value)
	fmt.Printf("ROC AUC %.2f, average precision %.2f\n", rep.ROCAUC, rep.AveragePrecision)
	fmt.Printf("at the threshold: precision %.2f, recall %.2f, F1 %.2f\n", c.Precision, c.Recall, c.F1)
	fmt.Printf("best F1 %.2f above %.3f\n", rep.BestF1.F1, rep.BestF1.Threshold)
	fmt.Println(th.Metadata()[score.MetaThreshold])
	// Output:
	// threshold 0.0141 (mse)
	// ROC AUC 1.00, average precision 1.00
	// at the threshold: precision 1.00, recall 1.00, F1 1.00
	// best F1 1.00 above 0.014
	// 0.0141
}

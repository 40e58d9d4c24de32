"""Reference ROC AUC and average precision with numpy, from the textbook
definitions (score package's TestEvaluateNumpy):

    python auc_ref.py SCORES.npy LABELS.npy

ROC AUC is the Mann-Whitney statistic with average ranks for ties:
(sum of the anomalous rows' ranks - P(P+1)/2) / (P N). Average precision
is scikit-learn's average_precision_score: the sum over the distinct
scores t, in decreasing order, of (R(t) - R(previous t)) P(t), where rows
with score >= t are flagged. Prints "auc AP" with 17 significant digits.
"""
import sys

import numpy as np

s = np.load(sys.argv[1]).astype(np.float64)
y = np.load(sys.argv[2]).astype(np.float64) == 1
_, inv, cnt = np.unique(s, return_inverse=True, return_counts=True)
ranks = (np.cumsum(cnt) - (cnt - 1) / 2.0)[inv]
P = int(y.sum())
N = len(y) - P
auc = (ranks[y].sum() - P * (P + 1) / 2.0) / (P * N)
ap, prev = 0.0, 0.0
for t in np.unique(s)[::-1]:
    f = s >= t
    tp = int((f & y).sum())
    r = tp / P
    ap += (r - prev) * tp / int(f.sum())
    prev = r
print("%.17g %.17g" % (auc, ap))

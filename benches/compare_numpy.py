"""The compare bench's baseline: numpy's paired bootstrap of the same metrics on the same scores CSV.

Reads the CSV the bench wrote (id,label,champion_score,challenger_score), then draws RESAMPLES
paired resamples with the count scheme faultline uses, vectorised across resamples:
- precision, recall, F1, accuracy: one multinomial over the 8 cells label x champion decision x
  challenger decision per resample;
- PR-AUC: one multinomial over the occupied (label, champion bin, challenger bin) cells, each
  model's scores cut into bins at quantiles where positives and negatives weigh the same.
Prints `NUMPY seconds=<read+bootstrap> read=<read>` and the 95% intervals, for the bench to quote.

Usage: python compare_numpy.py SCORES_CSV THRESHOLD_CHAMPION THRESHOLD_CHALLENGER RESAMPLES
"""

import sys
import time

import numpy as np


def bins(scores, labels, max_bins):
    """Bin per row, 0 holding the highest scores; both classes weigh the same in total."""
    pos = labels.sum()
    neg = len(labels) - pos
    weight = np.where(labels, neg / max(pos, 1), 1.0)
    order = np.argsort(-scores, kind="stable")
    cum = np.cumsum(weight[order])
    b = np.minimum((cum / cum[-1] * max_bins).astype(np.int64), max_bins - 1)
    out = np.empty(len(scores), dtype=np.int64)
    out[order] = b
    return out


def average_precision(pos, neg):
    """Rows are resamples, columns bins from the highest scores down."""
    tp = np.cumsum(pos, axis=1)
    fp = np.cumsum(neg, axis=1)
    total = tp[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(total > 0, tp / total, 0.0)
    step = np.diff(recall, axis=1, prepend=0.0)
    return (step * precision).sum(axis=1)


def main():
    path, t_a, t_b, resamples = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    start = time.perf_counter()
    data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(1, 2, 3))
    read = time.perf_counter() - start
    labels = data[:, 0] == 1
    a, b = data[:, 1], data[:, 2]
    n = len(labels)
    rng = np.random.default_rng(42)

    cell = labels * 4 + (a >= t_a) * 2 + (b >= t_b)
    counts = np.bincount(cell, minlength=8)
    draws = rng.multinomial(n, counts / n, size=resamples)
    label, da, db = np.arange(8) >> 2 & 1, np.arange(8) >> 1 & 1, np.arange(8) & 1

    def threshold_metrics(decision):
        tp = draws[:, (label == 1) & (decision == 1)].sum(axis=1)
        fp = draws[:, (label == 0) & (decision == 1)].sum(axis=1)
        fn = draws[:, (label == 1) & (decision == 0)].sum(axis=1)
        tn = draws[:, (label == 0) & (decision == 0)].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
            r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
            f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
        return {"precision": p, "recall": r, "f1": f, "accuracy": (tp + tn) / n}

    ma, mb = threshold_metrics(da), threshold_metrics(db)
    deltas = {k: mb[k] - ma[k] for k in ma}

    nb = 64
    ba, bb = bins(a, labels, nb), bins(b, labels, nb)
    joint = (labels * nb + ba) * nb + bb
    occupied, rows = np.unique(joint, return_counts=True)
    cells = rng.multinomial(n, rows / n, size=resamples)
    lab, ca, cb = occupied // (nb * nb), occupied // nb % nb, occupied % nb

    def per_bin(which, cls):
        # Rows per (resample, bin) of one class: the draws times a cell -> bin indicator matrix.
        onehot = np.zeros((len(occupied), nb))
        sel = np.nonzero(lab == cls)[0]
        onehot[sel, which[sel]] = 1.0
        return cells @ onehot

    ap_a = average_precision(per_bin(ca, 1), per_bin(ca, 0))
    ap_b = average_precision(per_bin(cb, 1), per_bin(cb, 0))
    deltas["pr_auc"] = ap_b - ap_a
    elapsed = time.perf_counter() - start
    print(f"NUMPY seconds={elapsed:.3f} read={read:.3f} cells={len(occupied)}")
    for k, v in deltas.items():
        lo, hi = np.quantile(v, [0.025, 0.975])
        print(f"NUMPY {k} [{lo:+.5f}, {hi:+.5f}]")


if __name__ == "__main__":
    main()

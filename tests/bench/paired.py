# SPDX-License-Identifier: GPL-2.0-only
"""Summary statistics of paired A/B ratios for the benchmarks: median,
quartiles and a distribution-free confidence interval of the median.

The interval is the sign-test one: between the k-th smallest and the k-th
largest of n ratios, the median lies with probability 1 - 2 P(B < k) for
B ~ Binomial(n, 1/2), whatever the distribution of the ratios. It needs no
assumption about this machine's noise, which is bimodal rather than normal.
"""

import math
import statistics


def _binomial_cdf_half(k, n):
    """P(B <= k) for B ~ Binomial(n, 1/2)."""
    return sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n


def median_interval(values, level=0.95):
    """(low, high, coverage): the narrowest sign-test interval for the
    median whose coverage is at least `level`; with too few values for that,
    the widest one (min, max) and its smaller coverage."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("no values")
    best = 1
    for k in range(1, n // 2 + 1):
        if 1 - 2 * _binomial_cdf_half(k - 1, n) >= level:
            best = k
        else:
            break
    return xs[best - 1], xs[n - best], 1 - 2 * _binomial_cdf_half(best - 1, n)


def quartiles(values):
    """(first quartile, median, third quartile); all three equal for one value."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def summary(ratios, level=0.95):
    """The figures reported for a list of paired ratios."""
    q1, median, q3 = quartiles(ratios)
    low, high, coverage = median_interval(ratios, level)
    return {"pairs": len(ratios), "ratio": median, "ratio_q1": q1, "ratio_q3": q3,
            "ci_low": low, "ci_high": high, "ci_coverage": coverage}

"""Outbreak detection with the CDC Early Aberration Reporting System (EARS) C1, C2 and C3.

Method: Hutwagner L, Thompson W, Seeman GM, Treadwell T. "The bioterrorism preparedness and
response Early Aberration Reporting System (EARS)". Journal of Urban Health 2003;80(2 Suppl
1):i89-i96, doi:10.1007/PL00022319. For a count Y_t and a baseline of 7 earlier counts with
mean mu and sample standard deviation sigma:

- C1 ("mild"): baseline t-7 .. t-1; C1_t = (Y_t - mu) / sigma; alarm when C1_t > 3.
- C2 ("medium"): baseline t-9 .. t-3 (a two-period guard band); C2_t the same way;
  alarm when C2_t > 3.
- C3 ("ultra"): C3_t = sum over i = 0, 1, 2 of max(0, C2_(t-i) - 1); alarm when C3_t > 2.

EARS was written for daily counts; here a period is one ISO week, because notifiable diseases
are reported weekly in Vietnam (the EARS statistics are used on weekly series elsewhere too).
A week without a report counts as 0 cases. Two guards are ours, not the paper's: sigma is
floored at MIN_SIGMA (a flat baseline, sigma = 0, would make any single case infinite), and a
week needs at least `min_cases` cases to raise a signal (per disease, see choices.MIN_CASES:
two measles cases matter, two dengue cases in a commune are usual).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import sqrt

BASELINE = 7
LAG = 2
C_THRESHOLD = 3.0
C3_THRESHOLD = 2.0
MIN_SIGMA = 1.0
MIN_CASES = 3  # when the caller names no per-disease minimum
# Weeks of history the three statistics of week t need: C2 of week t-2 looks back to t-11.
HISTORY = BASELINE + LAG + 2 + 1


@dataclass(frozen=True)
class Ears:
    """The EARS statistics of one week and the methods that alarm on it."""

    cases: int
    baseline_mean: float
    c1: float
    c2: float
    c3: float
    methods: tuple[str, ...]

    @property
    def alarm(self) -> bool:
        """Say whether the week raises an outbreak signal."""
        return bool(self.methods)


def _mean_sd(baseline: Sequence[int]) -> tuple[float, float]:
    """Return the mean and the sample standard deviation (n - 1) of a baseline."""
    n = len(baseline)
    mu = sum(baseline) / n
    return mu, sqrt(sum((x - mu) ** 2 for x in baseline) / (n - 1))


def _score(value: int, baseline: Sequence[int]) -> float:
    """Return (value - mean) / max(sigma, MIN_SIGMA) over a 7-period baseline."""
    mu, sigma = _mean_sd(baseline)
    return (value - mu) / max(sigma, MIN_SIGMA)


def c2_at(series: Sequence[int], t: int) -> float:
    """Return C2 of period t: its baseline is periods t-9 .. t-3."""
    return _score(series[t], series[t - LAG - BASELINE : t - LAG])


def evaluate(series: Sequence[int], min_cases: int = MIN_CASES) -> Ears:
    """Compute C1, C2, C3 for the last period of a series (left-padded with zero weeks)."""
    padded = [0] * max(0, HISTORY - len(series)) + list(series)
    t = len(padded) - 1
    baseline = padded[t - BASELINE : t]
    c1 = _score(padded[t], baseline)
    c2 = c2_at(padded, t)
    c3 = sum(max(0.0, c2_at(padded, t - i) - 1) for i in range(3))
    methods: tuple[str, ...] = ()
    if padded[t] >= min_cases:
        flags = (("C1", c1 > C_THRESHOLD), ("C2", c2 > C_THRESHOLD), ("C3", c3 > C3_THRESHOLD))
        methods = tuple(name for name, hit in flags if hit)
    return Ears(
        padded[t],
        round(_mean_sd(baseline)[0], 3),
        round(c1, 3),
        round(c2, 3),
        round(c3, 3),
        methods,
    )

"""EARS C1/C2/C3 (Hutwagner et al. 2003) against values worked out by hand from the formulas."""

from __future__ import annotations

import pytest

from cityops.modules.health.ears import HISTORY, evaluate


def test_a_week_far_above_its_baseline_alarms_on_c1_c2_and_c3():
    # weeks t-11 .. t; t has 14 cases.
    series = [0, 2, 4, 2, 0, 2, 4, 2, 0, 2, 4, 14]
    result = evaluate(series)
    # C1: baseline t-7..t-1 = 0 2 4 2 0 2 4: mean 2, squares of deviations 4+0+4+0+4+0+4 = 16,
    #     sample variance 16/6, sd 1.632993; C1 = (14 - 2) / 1.632993 = 7.348469.
    assert result.baseline_mean == 2.0
    assert result.c1 == pytest.approx(7.348, abs=1e-3)
    # C2: baseline t-9..t-3 = 4 2 0 2 4 2 0: the same mean and sd, so C2 = 7.348469 too.
    assert result.c2 == pytest.approx(7.348, abs=1e-3)
    # C3 = max(0, C2_t - 1) + max(0, C2_t-1 - 1) + max(0, C2_t-2 - 1), where
    #   C2_t-1: 4 cases, baseline 2 4 2 0 2 4 2 (mean 16/7 = 2.285714, squares 80/7,
    #           sd sqrt(80/42) = 1.380131): (4 - 2.285714) / 1.380131 = 1.242118;
    #   C2_t-2: 2 cases, baseline 0 2 4 2 0 2 4 (mean 2): 0.
    # C3 = 6.348469 + 0.242118 + 0 = 6.590587.
    assert result.c3 == pytest.approx(6.591, abs=1e-3)
    assert result.methods == ("C1", "C2", "C3")
    assert result.alarm


def test_a_week_in_its_usual_range_does_not_alarm():
    result = evaluate([0, 2, 4, 2, 0, 2, 4, 2, 0, 2, 4, 3])
    # C1 = (3 - 2) / 1.632993 = 0.612372
    assert result.c1 == pytest.approx(0.612, abs=1e-3)
    assert result.methods == ()
    assert not result.alarm


def test_thresholds_are_strict_and_a_flat_baseline_uses_the_sigma_floor():
    # A flat baseline of 2 has sd 0, floored to 1 case: 5 cases give C1 = C2 = 3 (not > 3)
    # and C3 = (3 - 1) + 0 + 0 = 2 (not > 2).
    at_threshold = evaluate([2] * 11 + [5])
    assert (at_threshold.c1, at_threshold.c2, at_threshold.c3) == (3.0, 3.0, 2.0)
    assert not at_threshold.alarm
    # One more case: C1 = C2 = 4 > 3 and C3 = 3 > 2.
    above = evaluate([2] * 11 + [6])
    assert (above.c1, above.c2, above.c3) == (4.0, 4.0, 3.0)
    assert above.methods == ("C1", "C2", "C3")


def test_a_week_below_the_minimum_case_count_never_alarms():
    result = evaluate([0] * 11 + [4], min_cases=5)
    assert result.c1 == 4.0  # the statistic alone would alarm
    assert not result.alarm
    assert evaluate([0] * 11 + [4], min_cases=4).alarm


def test_a_short_series_counts_the_missing_earlier_weeks_as_zero():
    assert HISTORY == 12
    assert evaluate([1, 7]) == evaluate([0] * 10 + [1, 7])

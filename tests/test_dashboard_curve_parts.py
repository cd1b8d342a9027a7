"""The curves pane's Qt-free parts: a curve's data, its axis ranges, its readout and how many plots fit a row."""

from __future__ import annotations

import math

import pytest

from gui.dashboard.groups import SCORES_GROUP, group_for
from gui.dashboard.plot_grid import PLOT_MIN_WIDTH, columns_for
from gui.dashboard.ranges import data_bounds, nice_ceiling, y_is_log
from gui.dashboard.series import Series, reading


def series(name: str, points: list[tuple[float, float]], alpha: float = 0.0) -> Series:
    one = Series("train", name, item=None)
    one.alpha = alpha
    for step, value in points:
        one.append(step, value)
    return one


def test_the_x_axis_grows_to_the_next_1_2_or_5_times_a_power_of_ten():
    assert [nice_ceiling(v) for v in (0, 0.7, 1, 3, 13, 130, 1000, 1001)] == [1.0, 1, 1, 5, 20, 200, 1000, 2000]


def test_scores_keep_a_linear_axis_when_log_y_is_on():
    assert y_is_log("Loss", True) and not y_is_log("Loss", False)
    assert not y_is_log(SCORES_GROUP, True) and group_for("val_accuracy") == SCORES_GROUP


def test_bounds_hold_every_finite_point_and_start_at_step_zero():
    a = series("loss", [(5, 2.0), (6, math.nan), (7, 0.5)])
    b = series("val_loss", [(10, 3.0), (12, math.inf)])
    empty = series("other", [])
    assert data_bounds([a, b, empty], log=False) == (0.0, 12.0, 0.5, 3.0)
    assert data_bounds([empty], log=False) is None


def test_log_bounds_skip_values_a_log_axis_cannot_show():
    a = series("loss", [(1, 0.0), (2, -1.0), (3, 10.0), (4, 100.0)])
    assert data_bounds([a], log=True) == (0.0, 4.0, 1.0, 2.0)


def test_the_smoothed_curve_is_a_debiased_moving_average_and_survives_a_rewind():
    one = series("loss", [(1, 1.0), (2, 3.0), (3, 5.0)], alpha=0.5)
    x, y = one.arrays()
    assert list(x) == [1, 2, 3]
    assert y[0] == pytest.approx(1.0)  # debiased: the first smoothed value is the first value
    assert y[1] == pytest.approx((0.5 * 0.5 * 1 + 0.5 * 3) / 0.75)
    one.truncate(2)
    assert one.n == 2 and list(one.arrays()[0]) == [1, 2]
    one.set_smoothing(0.0)
    assert list(one.arrays()[1]) == [1.0, 3.0]


def test_the_readout_names_each_curve_at_the_nearest_step():
    a = series("loss_g", [(1, 2.0), (10, 1.5), (20, 1.25)])
    b = series("loss_d", [(1, 0.7)])
    assert reading([a, b, series("none", [])], 9.5) == "loss_g 1.5 @ step 10 · loss_d 0.7 @ step 1"


def test_two_plots_share_a_row_only_where_both_fit():
    assert columns_for(0) == 1
    assert columns_for(2 * PLOT_MIN_WIDTH - 1) == 1
    assert columns_for(2 * PLOT_MIN_WIDTH) == 2
    assert columns_for(5000) == 2

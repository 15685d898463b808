"""Unit tests of the numerical building blocks: compare, value domains, trials, upstream gradients."""

from __future__ import annotations

import math
import textwrap
from dataclasses import replace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck_suite.errors import ConfigError
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.exercise.model import Domain
from gradcheck_suite.inputs.domains import keep_away, sample
from gradcheck_suite.inputs.tensors import upstream_gradient
from gradcheck_suite.inputs.trial import Trial
from gradcheck_suite.numerics.tolerances import compare

SEEDS = range(200)
F64 = torch.float64


def t(values):
    return torch.tensor(values, dtype=F64)


# ----------------------------------------------------------------------------- tolerances.compare

def test_compare_accepts_close_values():
    expected = t([[1.0, -2.0], [3.0, 0.0]])
    assert compare(expected + 1e-9, expected, rtol=1e-7, atol=1e-7) is None


def test_compare_reports_the_worst_element_relative_to_what_is_allowed():
    # The largest absolute error is at [0, 0], but relative to its allowance [1, 1] is worse.
    expected = t([[100.0, 2.0], [3.0, 1.0]])
    actual = t([[100.5, 2.0], [3.0, 1.4]])
    mismatch = compare(actual, expected, rtol=1e-3, atol=0.0)
    assert mismatch is not None
    assert (mismatch.count, mismatch.numel, mismatch.kind) == (2, 4, "values")
    assert mismatch.index == (1, 1)
    assert (mismatch.expected, mismatch.actual) == (1.0, 1.4)
    assert mismatch.abs_err == pytest.approx(0.4)
    assert mismatch.rel_err == pytest.approx(0.4)
    assert mismatch.allowed == pytest.approx(1e-3)
    text = mismatch.describe()
    assert text.startswith("2 of 4 elements differ; worst at [1, 1]: expected 1, got 1.4 ")
    assert "(abs err 0.4, rel err 0.4, allowed 0.001)" in text


def test_compare_allowed_is_atol_plus_rtol_times_expected():
    expected = t([2.0, -4.0])
    # allowed = 0.5 + 0.25 * |e| = [1.0, 1.5]; errors exactly at the bound pass.
    assert compare(t([3.0, -5.5]), expected, rtol=0.25, atol=0.5) is None
    mismatch = compare(t([3.0, -5.5 - 1e-6]), expected, rtol=0.25, atol=0.5)
    assert mismatch is not None and mismatch.index == (1,) and mismatch.allowed == pytest.approx(1.5)
    assert mismatch.count == 1


def test_compare_extra_allowance_per_element():
    expected = t([1.0, 1.0])
    actual = t([1.1, 1.1])
    assert compare(actual, expected, 0.0, 0.0, extra_atol=0.2) is None
    mismatch = compare(actual, expected, 0.0, 0.0, extra_atol=t([0.2, 0.05]))
    assert mismatch is not None and mismatch.index == (1,) and mismatch.allowed == pytest.approx(0.05)


def test_compare_scalar_index():
    mismatch = compare(t(2.0), t(1.0), 1e-7, 1e-7)
    assert mismatch.index == ()
    assert "worst at (scalar): expected 1, got 2" in mismatch.describe()


def test_compare_relative_error_of_an_expected_zero_is_infinite():
    mismatch = compare(t([0.5]), t([0.0]), 1e-7, 1e-7)
    assert mismatch.rel_err == math.inf and "rel err inf" in mismatch.describe()


def test_compare_reports_nan_before_larger_errors():
    expected = t([[1.0, 2.0, 3.0]])
    actual = t([[1e6, float("nan"), float("nan")]])
    mismatch = compare(actual, expected, 1e-7, 1e-7)
    assert mismatch.kind == "nan"
    assert mismatch.count == 2 and mismatch.numel == 3
    assert mismatch.index == (0, 1) and mismatch.expected == 2.0 and math.isnan(mismatch.actual)
    assert mismatch.describe() == "2 of 3 elements are NaN; first at [0, 1]: expected 2, got nan"


def test_compare_reports_infinite_values():
    mismatch = compare(t([1.0, -math.inf]), t([1.0, 5.0]), 1e-7, 1e-7)
    assert mismatch.kind == "inf" and mismatch.index == (1,)
    assert mismatch.describe() == "1 of 2 elements are infinite; first at [1]: expected 5, got -inf"


def test_compare_matching_nan_and_same_signed_inf_are_equal():
    values = t([float("nan"), math.inf, -math.inf, 1.0])
    assert compare(values.clone(), values, 1e-7, 1e-7) is None


def test_compare_infinite_actual_where_a_finite_value_is_expected():
    mismatch = compare(t([math.inf, 1.0]), t([2.0, 1.0]), 1e-7, 1e-7)
    assert mismatch is not None and mismatch.kind == "inf" and mismatch.index == (0,)


@pytest.mark.parametrize("actual", [-math.inf, 0.0, 5.0])
def test_compare_rejects_anything_but_the_same_infinity(actual):
    assert compare(t([actual]), t([math.inf]), 1e-7, 1e-7) is not None


def test_compare_nan_expected_but_finite_actual_fails():
    mismatch = compare(t([1.0, 2.0]), t([1.0, float("nan")]), 1e-7, 1e-7)
    assert mismatch is not None and mismatch.index == (1,)


def test_compare_low_precision_actual_against_float64_expected():
    expected = t([1.0 / 3.0])
    assert compare(expected.to(torch.float32), expected, 1.3e-6, 1e-5) is None
    assert compare(expected.to(torch.float32), expected, 1e-12, 1e-12) is not None


# ----------------------------------------------------------------------------- domains

def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _min_distance(values, point):
    return float((values - point).abs().min())


def _min_gap(values):
    return float(torch.diff(torch.sort(values.reshape(-1)).values).min())


def test_sample_is_seeded():
    domain = Domain(kind="real", scale=2.0)
    assert torch.equal(sample(domain, (3, 4), _gen(7)), sample(domain, (3, 4), _gen(7)))
    assert not torch.equal(sample(domain, (3, 4), _gen(7)), sample(domain, (3, 4), _gen(8)))


def test_avoided_points_keep_their_margin_over_many_seeds():
    # A small scale puts many draws inside the margins before keep_away moves them.
    domain = Domain(kind="real", scale=0.2, avoid=(0.0, 0.1, -0.25), margin=0.03)
    moved = 0
    for seed in SEEDS:
        raw = sample(replace(domain, avoid=()), (5, 6), _gen(seed))
        values = sample(domain, (5, 6), _gen(seed))
        moved += int((values != raw).sum())
        for point in domain.avoid:
            assert _min_distance(values, point) >= domain.margin, (seed, point)
    assert moved > 0  # the property was exercised, not just true of the raw draws


def test_distinct_values_keep_their_spacing_over_many_seeds():
    domain = Domain(kind="real", scale=0.05, distinct=True, margin=0.01)
    for seed in SEEDS:
        values = sample(domain, (40,), _gen(seed))
        assert _min_gap(values) >= domain.margin * (1 - 1e-12), seed


def test_keep_away_moves_values_sitting_on_an_avoided_point():
    kept = keep_away(t([0.0, 0.001, -0.002, 3.0]), Domain(avoid=(0.0,), margin=0.01))
    assert _min_distance(kept, 0.0) >= 0.01
    assert torch.equal(torch.argsort(kept), torch.argsort(t([0.0, 0.001, -0.002, 3.0])))  # order kept
    assert abs(float(kept[3]) - 3.0) <= 2 * 0.01 + 1e-12  # values move by at most the gap opened
    assert float(kept[1]) > 0 > float(kept[2])  # moved away on their own side


def test_keep_away_spreads_ties_apart():
    kept = keep_away(t([0.5, 0.5, 0.5, 0.2]), Domain(distinct=True, margin=0.01))
    assert _min_gap(kept) >= 0.01 * (1 - 1e-12)


def test_avoid_and_distinct_together_keep_both_margins():
    domain = Domain(avoid=(0.0,), distinct=True, margin=0.01)
    kept = keep_away(t([-0.004, -0.004]), domain)
    assert _min_distance(kept, 0.0) >= domain.margin
    for scale in (0.02, 0.05, 0.3):
        for size in (2, 5, 40):
            domain = Domain(kind="real", scale=scale, avoid=(0.0,), distinct=True, margin=0.01)
            for seed in SEEDS:
                values = sample(domain, (size,), _gen(seed))
                assert _min_distance(values, 0.0) >= domain.margin, (scale, size, seed)
                assert _min_gap(values) >= domain.margin * (1 - 1e-12), (scale, size, seed)


def test_distinct_values_stay_inside_a_bounded_domain():
    domain = Domain(kind="unit_interval", distinct=True, margin=0.01)
    for seed in range(20):
        values = sample(domain, (50,), _gen(seed))
        assert bool((values >= 0).all() and (values <= 1).all()), seed
        assert _min_gap(values) >= domain.margin * (1 - 1e-12)


def test_keep_away_leaves_values_alone_without_avoid_or_distinct():
    values = t([0.0, 0.0, 1e-9])
    assert keep_away(values, Domain()) is values


def test_probabilities_sum_to_one_along_the_last_dim():
    domain = Domain(kind="probabilities", scale=3.0)
    for seed in SEEDS:
        values = sample(domain, (3, 5), _gen(seed))
        assert values.shape == (3, 5) and bool((values > 0).all())
        torch.testing.assert_close(values.sum(-1), torch.ones(3, dtype=F64), rtol=0, atol=1e-12)


def test_unit_interval_stays_in_zero_one():
    domain = Domain(kind="unit_interval")
    values = torch.cat([sample(domain, (50,), _gen(seed)) for seed in SEEDS])
    assert bool((values >= 0).all() and (values <= 1).all())
    assert float(values.min()) < 0.05 and float(values.max()) > 0.95  # it spans the interval


def test_interval_and_positive_bounds():
    interval = Domain(kind="interval", low=-0.5, high=2.0)
    positive = Domain(kind="positive", scale=2.0)
    for seed in range(50):
        v = sample(interval, (20,), _gen(seed))
        assert bool((v >= -0.5).all() and (v <= 2.0).all())
        p = sample(positive, (20,), _gen(seed))
        assert bool((p >= 0.2 - 1e-12).all() and (p <= 8.0 + 1e-12).all())


# ----------------------------------------------------------------------------- trials

@pytest.fixture(scope="module")
def dims_spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "demo.yaml"
    path.write_text(textwrap.dedent("""\
        name: demo
        student: {file: demo.py, class: Demo}
        reference: torch.matmul
        dims:
          N: [1, 6]
          D_in: [1, 5]
        inputs:
          - name: a
            shape: [..., N, D_in]
          - name: b
            shape: [D_in]
        """))
    return load_exercise(path)


def test_trial_describe_format():
    trial = Trial({"N": 2, "D_in": 3}, (4, 1), 17)
    assert trial.describe() == "N=2,D_in=3,batch=4x1,values=17"
    assert Trial({}, (), 0).describe() == "values=0"


@given(st.data())
@settings(max_examples=100, deadline=None, database=None)
def test_trial_describe_parse_round_trip(dims_spec, data):
    dims = {name: data.draw(st.integers(lo, hi)) for name, (lo, hi) in dims_spec.dims.items()}
    batch = tuple(data.draw(st.lists(st.integers(1, 9), max_size=4)))
    trial = Trial(dims, batch, data.draw(st.integers(0, 2**32 - 1)))
    assert Trial.parse(trial.describe(), dims_spec) == trial


def test_trial_parse_tolerates_spaces_and_order(dims_spec):
    parsed = Trial.parse(" values=5 , D_in=2, N=1 ", dims_spec)
    assert parsed == Trial({"D_in": 2, "N": 1}, (), 5)


@pytest.mark.parametrize("text, message", [
    ("N=2", "missing dims: D_in"),
    ("values=3", "missing dims: N, D_in"),
    ("N=1,D_in=2,Q=3", "unknown dim 'Q' (dims are: N, D_in)"),
    ("N=1,D_in=2,garbage", "expected NAME=VALUE, got 'garbage'"),
    ("N=1,D_in=2,values=abc", "'abc'"),
    ("N=1,D_in=2,batch=2xq", "'q'"),
])
def test_trial_parse_errors(dims_spec, text, message):
    with pytest.raises(ValueError) as info:
        Trial.parse(text, dims_spec)
    assert message in str(info.value)


@pytest.mark.parametrize("reserved", ["batch", "values"])
def test_dims_named_like_replay_words_are_rejected(tmp_path, reserved):
    """'batch' and 'values' are words of the replay format, so no dim may take those names."""
    path = tmp_path / "demo.yaml"
    path.write_text("name: demo\nstudent: {file: demo.py, class: Demo}\nreference: torch.sigmoid\n"
                    f"dims:\n  {reserved}: [1, 3]\ninputs:\n  - name: x\n    shape: [{reserved}]\n")
    with pytest.raises(ConfigError) as info:
        load_exercise(path)
    assert info.value.problems and len(info.value.problems) == 1
    assert str(info.value) == f"{path}:5: dims.{reserved}: expected an identifier as dim name, other than batch and values"


# ----------------------------------------------------------------------------- upstream gradient

def _assert_kept_away(g, slack=1e-12):
    for point in (0.0, 1.0, -1.0):
        assert _min_distance(g.double().reshape(-1), point) >= 0.2 - slack, point


@pytest.mark.parametrize("shape", [(), (1,), (7,), (4, 4)])
def test_upstream_gradient_of_a_small_output_keeps_away_from_zero_and_one(shape):
    like = torch.empty(shape, dtype=F64)
    for seed in SEEDS:
        g = upstream_gradient(like, seed)
        assert g.shape == like.shape and g.dtype == F64
        _assert_kept_away(g)


def test_upstream_gradient_of_a_large_output_is_far_from_all_ones():
    like = torch.empty(4, 5, 3, dtype=F64)
    for seed in range(50):
        g = upstream_gradient(like, seed)
        assert g.shape == like.shape
        assert float((g - 1).abs().mean()) > 0.5 and float(g.std()) > 0.5, seed


def test_upstream_gradient_is_seeded_and_never_constant():
    like = torch.empty(3, 4, dtype=F64)
    assert torch.equal(upstream_gradient(like, 3), upstream_gradient(like, 3))
    assert not torch.equal(upstream_gradient(like, 3), upstream_gradient(like, 4))
    assert not torch.equal(upstream_gradient(like, 3), upstream_gradient(like, 3, stream=1))
    assert not torch.equal(upstream_gradient(like, 3), torch.ones_like(like))
    assert float(upstream_gradient(like, 3).std()) > 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_upstream_gradient_follows_the_output_dtype(dtype):
    like = torch.empty(6, dtype=dtype)
    for seed in range(50):
        g = upstream_gradient(like, seed)
        assert g.dtype == dtype
        # rounding to a low-precision dtype moves a value by at most a relative 2**-8
        _assert_kept_away(g, slack=0.02)

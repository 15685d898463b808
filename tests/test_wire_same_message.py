"""wire.same_message: whether a check's request is the very one an answer was computed ahead for
(sandbox.supervisor's Worker.call). It says True only for messages whose bytes on the wire are the
same, and True for a message and its copy."""

from __future__ import annotations

import copy

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck_suite.sandbox import wire

DTYPES = [torch.float64, torch.float32, torch.int64, torch.bool, torch.bfloat16]


@st.composite
def tensors(draw) -> torch.Tensor:
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.lists(st.integers(0, 3), max_size=3))
    values = torch.tensor(draw(st.lists(st.sampled_from([-2.0, -0.0, 0.0, 1.0, float("nan")]),
                                        min_size=int(torch.Size(shape).numel()),
                                        max_size=int(torch.Size(shape).numel()))), dtype=torch.float64)
    tensor = values.reshape(shape).to(dtype)
    if tensor.dim() == 2 and draw(st.booleans()):
        tensor = tensor.t().contiguous().t()  # the same values, strided: the wire sends them contiguous
    return tensor


scalars = st.none() | st.booleans() | st.integers(-3, 3) \
    | st.sampled_from([0.5, 1.0, 0.0, -0.0, float("inf"), float("nan")]) | st.text(alphabet="ab\"[", max_size=3)
messages = st.recursive(scalars | tensors(), lambda inner: st.lists(inner, max_size=3)
                        | st.tuples(inner) | st.dictionaries(st.text(alphabet="ab", max_size=2), inner, max_size=3),
                        max_leaves=6)


@settings(max_examples=500, deadline=None)
@given(st.tuples(messages, messages))
def test_the_same_message_only_for_the_same_bytes_on_the_wire(pair):
    one, two = ({"body": m} for m in pair)
    if wire.same_message(one, two):
        assert wire.encode(one) == wire.encode(two)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_a_message_is_the_same_as_its_copy(message):
    copied = copy.deepcopy({"body": message})
    assert wire.same_message({"body": message}, copied)
    assert wire.encode({"body": message}) == wire.encode(copied)


def test_what_the_wire_tells_apart_same_message_tells_apart():
    x = torch.arange(6, dtype=torch.float64)
    same_values = [x.reshape(2, 3), x.reshape(3, 2), x.float(), x.reshape(2, 3).t().contiguous()]
    for k, one in enumerate(same_values):
        for other in same_values[k + 1:]:
            assert not wire.same_message({"inputs": [one]}, {"inputs": [other]})
    zero, negative_zero = torch.zeros(2), torch.tensor([0.0, -0.0])
    assert torch.equal(zero, negative_zero) and not wire.same_message([zero], [negative_zero])
    assert not wire.same_message({"run": 1}, {"run": 1.0}) and not wire.same_message({"run": 1}, {"run": True})
    assert not wire.same_message({"scale": 0.0}, {"scale": -0.0})
    assert not wire.same_message({"a": [["x"], "y"]}, {"a": [["x", "y"]]})
    assert wire.same_message({"inputs": (x,)}, {"inputs": [x.clone()]})  # a tuple goes as a list
    nan = torch.tensor([float("nan"), 1.0])
    assert wire.same_message([nan], [nan.clone()])  # the same bits, though NaN != NaN
    strided = torch.arange(6.0).reshape(2, 3).t()
    assert wire.same_message([strided], [strided.contiguous()])  # the wire sends them contiguous

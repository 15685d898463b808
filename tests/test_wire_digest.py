"""wire.digest: what identifies a request an answer was computed ahead for (sandbox.supervisor's
Worker.call). Two messages get the same digest exactly when their bytes on the wire are the same."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck_suite.sandbox import wire

DTYPES = [torch.float64, torch.float32, torch.int64, torch.bool, torch.bfloat16]


@st.composite
def tensors(draw) -> torch.Tensor:
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.lists(st.integers(0, 3), max_size=3))
    values = torch.tensor(draw(st.lists(st.integers(-2, 2), min_size=int(torch.Size(shape).numel()),
                                        max_size=int(torch.Size(shape).numel()))), dtype=torch.float64)
    tensor = values.reshape(shape).to(dtype)
    if tensor.dim() == 2 and draw(st.booleans()):
        tensor = tensor.t().contiguous().t()  # the same values, strided: the wire sends them contiguous
    return tensor


scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.5, 1.0, float("inf"), float("nan")]) \
    | st.text(alphabet="ab\"[", max_size=3)
messages = st.recursive(scalars | tensors(), lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(alphabet="ab", max_size=2), inner, max_size=3), max_leaves=6)


@settings(max_examples=400, deadline=None)
@given(st.tuples(messages, messages))
def test_equal_digests_exactly_for_equal_bytes_on_the_wire(pair):
    one, two = ({"body": m} for m in pair)
    assert (wire.digest(one) == wire.digest(two)) == (wire.encode(one) == wire.encode(two))


def test_what_the_wire_tells_apart_the_digest_tells_apart():
    x = torch.arange(6, dtype=torch.float64)
    same_bytes = [x.reshape(2, 3), x.reshape(3, 2), x.float(), x.reshape(2, 3).t().contiguous()]
    digests = {wire.digest({"inputs": [t]}) for t in same_bytes}
    assert len(digests) == len(same_bytes)
    assert wire.digest({"run": 1}) != wire.digest({"run": 1.0}) != wire.digest({"run": True})
    assert wire.digest({"a": [["x"], "y"]}) != wire.digest({"a": [["x", "y"]]})
    assert wire.digest({"inputs": (x,)}) == wire.digest({"inputs": [x.clone()]})  # a tuple goes as a list

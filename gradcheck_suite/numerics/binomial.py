"""The two-sided binomial test of how many elements a random mask kept, with exact tails.

Of n elements each kept independently with probability q, the number kept K is Binomial(n, q). A
correct dropout is accepted when lo <= K <= hi, where lo is the largest count with P(K < lo) <= a/2
and hi the smallest with P(K > hi) <= a/2, a = FALSE_FAILURE_RATE: a correct op fails the test with
probability P(K < lo) + P(K > hi) <= a, whatever n and q.

The tails are summed exactly (no normal approximation, no scipy): the log of every term,
log C(n, k) + k log q + (n - k) log(1 - q), from lgamma in float64, exponentiated and summed from
the far end inwards (cumulative sums of nonnegative terms, relative error about n * 2^-52). To stay
on the safe side of that rounding, a bound is accepted only where its tail is below a/2 by a factor
(1 - 1e-9), far more than the rounding can move it.
"""

from __future__ import annotations

from functools import lru_cache

import torch

__all__ = ["FALSE_FAILURE_RATE", "SEPARATION", "acceptance", "min_elements", "tails"]

FALSE_FAILURE_RATE = 1e-8
"""Per test, both tails together: a check that runs up to 100 trials fails a correct op less than once in 10^6 gradings."""
SEPARATION = 0.1
"""Keep probabilities q and 1 - q are told apart when |q - 1/2| >= SEPARATION (at 1/2 they are the same)."""
_SAFETY = 1 - 1e-9


def tails(n: int, q: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(P(K <= k), P(K >= k)) for k = 0..n, K ~ Binomial(n, q), in float64."""
    k = torch.arange(n + 1, dtype=torch.float64)
    if q <= 0 or q >= 1:
        point = (k == (0 if q <= 0 else n)).to(torch.float64)
        return point.cumsum(0), point.flip(0).cumsum(0).flip(0)
    log_terms = (torch.lgamma(torch.tensor(n + 1.0, dtype=torch.float64)) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
                 + k * torch.log(torch.tensor(q, dtype=torch.float64))
                 + (n - k) * torch.log1p(torch.tensor(-q, dtype=torch.float64)))
    terms = torch.exp(log_terms)
    return terms.cumsum(0), terms.flip(0).cumsum(0).flip(0)


@lru_cache(maxsize=4096)
def acceptance(n: int, q: float, alpha: float = FALSE_FAILURE_RATE) -> tuple[int, int]:
    """(lo, hi): the counts kept a correct op with keep probability q produces, but for a
    probability of at most `alpha` (alpha/2 each side), out of n."""
    lower, upper = tails(n, q)
    bound = alpha / 2 * _SAFETY
    lo = int((lower <= bound).sum())  # P(K < lo) = P(K <= lo - 1) <= bound
    hi = n - int((upper <= bound).sum())  # P(K > hi) = P(K >= hi + 1) <= bound
    return lo, hi


@lru_cache(maxsize=8)
def min_elements(separation: float = SEPARATION, alpha: float = FALSE_FAILURE_RATE) -> int:
    """The fewest elements with which the test tells q from 1 - q for every |q - 1/2| >= separation:
    the acceptance ranges of q = 1/2 - separation and 1/2 + separation do not meet, so an op that
    keeps with 1 - q instead of q fails (but for a probability below alpha). The closest pair is the
    hardest; pairs further apart are told apart with fewer elements."""
    low, high = 0.5 - separation, 0.5 + separation

    def apart(n: int) -> bool:
        return acceptance(n, low, alpha)[1] < acceptance(n, high, alpha)[0]

    n = 1
    while not apart(n):
        n *= 2
    below = n // 2  # apart(n), and not apart(below) (or below is 0)
    while n - below > 1:
        middle = (n + below) // 2
        below, n = (below, middle) if apart(middle) else (middle, n)
    while not all(apart(m) for m in range(n, n + 64)):  # discreteness: the first n from which it holds
        n += 1
    return n

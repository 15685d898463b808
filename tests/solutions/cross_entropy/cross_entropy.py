"""Exercise: cross-entropy of logits and class indices with a hand-written backward pass."""

import torch


class CrossEntropy(torch.autograd.Function):
    """Mean cross-entropy between a batch of logits and their target class indices.

    Shapes:
        logits: (N, C)  one row of C unnormalised class scores per example
        target: (N,)    int64 class indices, 0 <= target[n] < C (data: no gradient)
        loss:   ()      a 0-d tensor, equal to torch.nn.functional.cross_entropy(logits, target)

    forward(ctx, logits, target):
        Return the mean over the N rows of the negative log-probability of the target class:
            loss = (1/N) * sum_n ( logsumexp(logits[n]) - logits[n, target[n]] ).
        It must stay finite and accurate for logits up to +-1000: subtract the row max m
        from each row first and work with the shifted logits z = logits - m only,
            logsumexp(logits[n]) - logits[n, target[n]] = log(sum_j exp(z[n, j])) - z[n, target[n]].
        (Adding m back and subtracting the target's logit gives the same number
        mathematically, but in float32 near 1000 it keeps only about 4 decimals.)
        Do not call cross_entropy, nll_loss, log_softmax or torch.logsumexp.
        To pick z[n, target[n]] for every row at once, index with (torch.arange(N), target),
        or use torch.gather.

    backward(ctx, grad_output):
        ``grad_output`` (g) is a 0-d tensor, dL/d(loss). Return ``(grad_logits, None)``:
        grad_logits has shape (N, C); with s = softmax(logits) row by row,
            d loss / d logits[n, j] = (s[n, j] - [j == target[n]]) / N,
        that is softmax minus the one-hot encoding of the target, divided by N for the mean,
        times g. target holds class indices and gets no gradient: return None for it.

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, logits, target):
        # BEGIN SOLUTION: CrossEntropy.forward: return the stable mean cross-entropy (a 0-d tensor)
        shifted = logits - logits.amax(dim=1, keepdim=True)
        log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
        rows = torch.arange(logits.shape[0], device=logits.device)
        ctx.save_for_backward(log_probs, target)
        return -log_probs[rows, target].mean()
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: CrossEntropy.backward: return (grad_logits, None)
        log_probs, target = ctx.saved_tensors
        n = log_probs.shape[0]
        probs_minus_onehot = torch.exp(log_probs)
        probs_minus_onehot[torch.arange(n, device=log_probs.device), target] -= 1
        return grad_output * probs_minus_onehot / n, None
        # END SOLUTION

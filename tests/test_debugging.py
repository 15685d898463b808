"""`pytest --pdb` opens in the student's frame; `breakpoint()` under --replay stops once.

Driven as a student drives them: pytest in a subprocess, the debugger's commands on stdin.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import EXERCISES, REPO_ROOT

WRONG = '''import torch


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
{pause}        grad_x = grad_output @ w.T
        my_weight_grad = x.T @ grad_output
        grad_b = grad_output.mean(dim=0)  # a mean where the batch is summed
        return grad_x, my_weight_grad, grad_b
'''

RAISES = '''import torch


def transposed_product(g, w):
    return g @ w.T.T  # one transpose too many: a shape error unless w is square


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        rows_seen = x.shape[0] * 1000 + 7
        grad_x = transposed_product(grad_output, w)
        return grad_x, x.T @ grad_output, grad_output.sum(0)
'''
BACKWARD = ["-k", "linear and backward and not properties"]


def _pytest(submission: Path, commands: str, *extra: str) -> str:
    done = subprocess.run([sys.executable, "-m", "pytest", str(EXERCISES / "linear"), "--submission", str(submission),
                           "-p", "no:cacheprovider", *BACKWARD, *extra],
                          input=commands, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert done.returncode != 0, done.stdout[-3000:]
    return done.stdout + done.stderr


def _submit(tmp_path: Path, text: str) -> Path:
    (tmp_path / "linear.py").write_text(text)
    return tmp_path


def test_pdb_on_a_wrong_gradient_opens_in_the_students_backward(tmp_path):
    submission = _submit(tmp_path, WRONG.format(pause=""))
    output = _pytest(submission, "p sorted(locals())\np tuple(my_weight_grad.shape)\nq\n", "--pdb")
    # post-mortem at the backward's return on the failing example, with the student's variables
    assert f"{submission / 'linear.py'}(16)backward()" in output, output[-3000:]
    assert "['ctx', 'grad_b', 'grad_output', 'grad_x', 'my_weight_grad', 'w', 'x']" in output, output[-3000:]
    assert "plugin.py" not in output.split("entering PDB", 1)[1]


def test_pdb_on_an_error_opens_where_the_students_code_raised(tmp_path):
    submission = _submit(tmp_path, RAISES)
    output = _pytest(submission, "p g.shape\nup\np rows_seen % 1000\nq\n", "--pdb")
    after = output.split("entering PDB", 1)[1]
    assert f"{submission / 'linear.py'}(5)transposed_product()" in after, output[-3000:]
    assert f"{submission / 'linear.py'}(18)backward()" in after  # one frame up: the backward itself
    assert "\n(Pdb) 7\n" in after


def test_breakpoint_under_replay_stops_once(tmp_path):
    submission = _submit(tmp_path, WRONG.format(pause="        breakpoint()\n"))
    example = "N=2,D_in=1,D_out=1,values=0"
    # continue at every stop; each stop prints the shape of x it stopped with
    output = _pytest(submission, "p ('x is', tuple(x.shape))\nc\n" * 4, "--replay", example)
    assert output.count("('x is', (2, 1))") == 1, output[-3000:]
    assert output.count("('x is',") == 1  # not again in the heatmap's larger example
    assert "linear::backward failed" in output

"""Which trials a run draws: the exercise's public seed locally, a secret one on the autograder.

Students run the public trials on their own machine (the same verdict every run). The autograder
draws others, from a secret fixed per autograder build (given, or generated and recorded for the
instructor), so that answers memorized from the public trials earn nothing. Each exercise's seed
is derived one-way from the secret: every submission of a build meets the same trials, a replay
line (a trial's dims and values seed) reproduces that trial anywhere, and nothing a student sees
leads back to the secret.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from ..errors import GradcheckSuiteError
from ..exercise.model import ExerciseSpec
from .options import RunOptions

SECRET_ENVIRONMENT = "GRADCHECK_SECRET_SEED"


class SecretSeedError(GradcheckSuiteError):
    """A secret seed file that cannot be read or is empty."""


def run_seed(spec: ExerciseSpec, options: RunOptions) -> int:
    """The seed of the exercise's trials in this run: an explicit override, the secret's, or the
    exercise's public one."""
    if options.seed is not None:
        return options.seed
    if options.secret is not None:
        return derive(options.secret, spec.name)
    return spec.seed


def derive(secret: str, exercise: str) -> int:
    """A 64-bit seed for one exercise, one-way from the secret."""
    digest = hashlib.blake2b(exercise.encode(), key=secret.encode()[:64], digest_size=8).digest()
    return int.from_bytes(digest, "big")


def new_secret() -> str:
    return secrets.token_hex(16)


def read_secret(path: Path | str) -> str:
    """The secret in a file (its first line); SecretSeedError naming the file when there is none."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretSeedError(f"{path}: cannot read the secret seed ({exc.strerror or exc})") from None
    secret = text.splitlines()[0].strip() if text else ""
    if not secret:
        raise SecretSeedError(f"{path}: the secret seed file is empty")
    return secret


def autograder_secret(path: Path | str | None) -> tuple[str, bool]:
    """(the secret, whether it was generated): from `path`, else $GRADCHECK_SECRET_SEED, else new."""
    if path is not None:
        return read_secret(path), False
    given = os.environ.get(SECRET_ENVIRONMENT, "").strip()
    if given:
        return given, False
    return new_secret(), True


def fingerprint(secret: str) -> str:
    """A short name of the secret that says which one graded a run, without revealing it."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]

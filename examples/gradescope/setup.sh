#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
# The autograder zip holds: setup.sh, run_autograder, gradcheck-suite/ (this project's source)
# and exercises/ (the course: exercise.yaml files, no solutions).
set -euo pipefail
apt-get update && apt-get install -y --no-install-recommends python3 python3-pip python3-venv libseccomp2
python3 -m venv /autograder/venv
# The CPU build of torch: a bare `torch` requirement would pull a CUDA build of several GB.
/autograder/venv/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install /autograder/source/gradcheck-suite

#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image (Ubuntu), in /autograder/source:
# the autograder zip unpacked (`gradcheck-suite build-autograder SRC --platform gradescope` writes it).
# It installs what the sandbox needs (libseccomp2), then CPU torch in the range the course was
# checked with and the exact gradcheck-suite wheel shipped in the zip (requirements.txt names both).
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
apt-get update && apt-get install -y --no-install-recommends python3 python3-pip python3-venv libseccomp2
python3 -m venv "$ROOT/venv"
cd "$SOURCE"
"$ROOT/venv/bin/pip" install --no-cache-dir -r requirements.txt

#!/usr/bin/env bash
# PrairieLearn's external grader runs this in its image: the course's files in $ROOT/tests (the
# exercises, and, when `gradcheck-suite build-autograder` made them, manifest.json and secret-seed),
# the student's files in $ROOT/student; PrairieLearn reads $ROOT/results/results.json. It runs
# without network and without a setup step: the image (Dockerfile beside this file) has torch and
# gradcheck-suite installed. An exercise that cannot be graded makes the results `gradable: false`,
# which PrairieLearn shows to staff; the exit status stays 0 so that PrairieLearn reads them.
set -u
ROOT="${PL_GRADE_ROOT:-/grade}"
GRADCHECK_SUITE="${GRADCHECK_SUITE:-gradcheck-suite}"
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
cd "$ROOT/tests"
extra=()
if [ -f manifest.json ]; then
    extra+=(--manifest manifest.json)
fi
if [ -f secret-seed ]; then
    extra+=(--secret-seed-file secret-seed)
fi
$GRADCHECK_SUITE grade exercises --submission "$ROOT/student" --prairielearn "$ROOT/results/results.json" \
    --json "$ROOT/results/gradcheck.json" "${extra[@]}"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    # grading did not complete: not a verdict on the student's code, and PrairieLearn must not score it
    cat > "$ROOT/results/results.json" <<JSON
{"gradable": false, "score": 0, "message": "The autograder could not grade this submission (exit status $status). This is not a verdict on your code: please tell your course staff.", "output": "", "tests": []}
JSON
fi
exit 0

#!/usr/bin/env bash
# The GPU check of the sample course: solutions pass and bug variants fail with the student code
# on CUDA in float32 (reference and finite differences in float64). Writes its log to ${OUT:-.}.
set -u
out="${OUT:-.}"
export PYTHONPATH="$(pwd)"
{
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch, hypothesis, pytest; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'hypothesis', hypothesis.__version__, 'pytest', pytest.__version__)"
  echo "== solutions, device cuda, float32"
  /usr/bin/time -f "wall %e s" python3 -m pytest exercises/ -q -p no:cacheprovider --submission tests/solutions \
      --device cuda --dtype float32 --grade-json "$out/gpu_solutions.json"
  echo "== stubs, device cuda, float32"
  python3 -m pytest exercises/ -q -p no:cacheprovider --device cuda --dtype float32 | tail -n 14
  echo "== every variant, device cuda, float32"
  /usr/bin/time -f "wall %e s" python3 benchmarks/variant_verdicts.py --device cuda --dtype float32
  echo "== every variant, device cuda, float64"
  /usr/bin/time -f "wall %e s" python3 benchmarks/variant_verdicts.py --device cuda
} 2>&1 | tee "$out/gpu_check.log"

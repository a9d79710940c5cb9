#!/usr/bin/env bash
# GPU suite: SFT, DPO and GRPO on Qwen2.5-0.5B-Instruct (Hub), TRL vs Unsloth, GRPO with and without vLLM;
# prints tokens/s and peak GPU memory per run (docs/benchmarks.md). Needs an NVIDIA GPU.
#
#   bash bench/gpu_suite.sh                      # TRL in the default environment (+ Unsloth/vLLM if installed)
#   MODEL=/path/to/local/model STEPS=10 bash bench/gpu_suite.sh
#
# Unsloth and vLLM are separate, mutually exclusive extras (root pyproject.toml): the TRL runs and the
# vLLM runs need `uv sync --extra vllm`, the Unsloth runs `uv sync --extra unsloth`. The script runs what the
# current environment has and says what it skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL="${MODEL:-Qwen/Qwen2.5-0.5B-Instruct}"
STEPS="${STEPS:-20}"
OUT="${OUT:-bench_out/gpu}"
PY="${PYTHON:-uv run --frozen python}"

if ! $PY -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_suite: no CUDA device here; this suite only runs on a machine with an NVIDIA GPU (nothing measured)" >&2
  exit 2
fi

has() { $PY -c "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('$1') else 1)"; }
BACKENDS="trl"
if has unsloth; then BACKENDS="trl,unsloth"; else echo "gpu_suite: unsloth not installed: Unsloth runs skipped (uv sync --extra unsloth)"; fi
VLLM="off"
if has vllm; then VLLM="off,on"; else echo "gpu_suite: vllm not installed: vLLM runs skipped (uv sync --extra vllm)"; fi

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY bench/gpu_suite.py --model "$MODEL" --steps "$STEPS" --backends "$BACKENDS" --vllm "$VLLM" --output "$OUT"

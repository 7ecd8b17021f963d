#!/usr/bin/env bash
# The GPU checks, prepared to run in one go on a lent GPU machine (which reaches no network).
#
#   bash bench/gpu.sh pack   # here: builds, and packs into the git-ignored .gpucarry/ (about 45 MB)
#                            # Node, the built dist/, onnxruntime-node (linux-x64 only), RDKit,
#                            # the Vulkan loader packages, the GPU tests as one bundle, stories260K
#   bash bench/gpu.sh run    # there, with .gpucarry carried along; results go to $OUT (or ./gpu-out)
#
# run: (1) `tagllm doctor --json --placements`; (2) the GPU tests (WebGPU against the CPU: logits,
# greedy generation with the cache in GPU buffers, tag-training losses and gradients); (3) forward,
# decode and a training step on stories260K and the SmolLM2-135M shape, on WebGPU (and CUDA where
# onnxruntime has it) and on that machine's CPU; (4) the same shapes in PyTorch on CUDA
# (bench/pytorch-peer.py); (5) a table of it all, summary.md. Each part is bounded in time so the
# whole stays within one 10-minute call.
set -uo pipefail
cd "$(dirname "$0")/.."
CARRY=.gpucarry

pack() {
  set -e
  : "${TAGLLM_DATA_DIR:?set TAGLLM_DATA_DIR to the shared data folder}"
  npm run build >/dev/null
  rm -rf "$CARRY" && mkdir -p "$CARRY/data/models" "$CARRY/gl"
  tar -cf - -C "$(dirname "$(command -v node)")" node | xz -T2 -3 >"$CARRY/node.tar.xz"
  tar -cf - node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist \
    node_modules/onnxruntime-node/bin/napi-v6/linux/x64 node_modules/onnxruntime-common \
    node_modules/@rdkit/rdkit/package.json node_modules/@rdkit/rdkit/dist | xz -T2 -3 >"$CARRY/modules.tar.xz"
  tar -cf - dist | xz -T2 -3 >"$CARRY/dist.tar.xz"
  npx esbuild test/runtime/gpu-provider.test.ts --bundle --platform=node --target=node20 \
    --external:onnxruntime-node --external:@rdkit/rdkit --outfile="$CARRY/gpu-provider.test.js" --log-level=warning
  cp "$TAGLLM_DATA_DIR/models/stories260K.gguf" "$CARRY/data/models/"
  # The Vulkan loader for amd64, whatever this machine is (the device tool's recipe).
  local lists=/tmp/gpucarry-apt-lists
  mkdir -p "$lists/partial"
  local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$lists")
  apt-get "${o[@]}" update -qq
  (cd "$CARRY/gl" && apt-get "${o[@]}" download libvulkan1 >/dev/null)
  grep -qx '/.gpucarry/' .git/info/exclude 2>/dev/null || echo '/.gpucarry/' >>.git/info/exclude
  du -sh "$CARRY"
}

run() {
  local out=${OUT:-$PWD/gpu-out}
  mkdir -p "$out"
  local work=/tmp/tagllm-gpu
  mkdir -p "$work"
  tar -xJf "$CARRY/node.tar.xz" -C "$work"
  tar -xJf "$CARRY/modules.tar.xz" -C .
  tar -xJf "$CARRY/dist.tar.xz" -C .
  for f in "$CARRY"/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
  export PATH="$work:$PATH" TAGLLM_DATA_DIR="$PWD/$CARRY/data" XDG_RUNTIME_DIR=/tmp TAGLLM_DEVICE=
  local stories="$TAGLLM_DATA_DIR/models/stories260K.gguf"
  {
    echo "date: $(date -u +%FT%TZ)"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
    node --version
  } >"$out/machine.txt" 2>&1

  timeout 120 node dist/cli.js doctor --json --placements --model "$stories" >"$out/doctor.json" 2>"$out/doctor.err"
  timeout 180 node --test --test-reporter=spec "$CARRY/gpu-provider.test.js" >"$out/tests.log" 2>&1
  echo "gpu tests exit $?" >>"$out/tests.log"

  local gpus=(webgpu)
  grep -q '"provider":"cuda","ok":true' "$out/doctor.json" && gpus+=(cuda)
  : >"$out/bench.jsonl"
  bench() { timeout 120 node dist/cli.js bench "$@" --json 2>>"$out/bench.err" | tail -n 1 >>"$out/bench.jsonl"; }
  for device in "${gpus[@]}" cpu; do
    for source in "--model $stories" "--shape smollm2-135m"; do
      for batch in 1 8; do
        # shellcheck disable=SC2086
        bench forward $source --batch $batch --seq 64 --seconds 2 --device $device
        # shellcheck disable=SC2086
        bench generate $source --batch $batch --seq 16 --new-tokens 32 --device $device
        # shellcheck disable=SC2086
        bench train $source --batch $batch --seq 64 --seconds 2 --device $device
      done
    done
  done
  timeout 240 python3 bench/pytorch-peer.py --threads "$(nproc)" --device cuda --shapes stories260K,smollm2-135m \
    --modes forward,generate,train >"$out/pytorch-cuda.jsonl" 2>"$out/pytorch-cuda.err"
  node bench/gpu-summary.mjs "$out" >"$out/summary.md" 2>>"$out/bench.err"
  cat "$out/summary.md"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: bash bench/gpu.sh pack|run" >&2; exit 2 ;;
esac

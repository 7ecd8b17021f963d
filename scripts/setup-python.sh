#!/usr/bin/env bash
# Creates the git-ignored .venv/ that the Python-side checks need: transformers parity fixtures,
# sacreBLEU reference values, the PyTorch training companion (python/) and its pytest suite.
# Packages come from whatever index pip is configured with (on a user's machine PyPI; here the
# local mirror that `pip config` names). A venv that already has every package is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$PWD/.venv"
PACKAGES=(torch transformers gguf safetensors sentencepiece tokenizers numpy sacrebleu peft accelerate pytest jsonschema)
IMPORTS="torch, transformers, gguf, safetensors, sentencepiece, tokenizers, numpy, sacrebleu, peft, accelerate, pytest, jsonschema, tagllm_torch"

# The companion is installed editable, so this checkout's python/ is the one imported.
companion_here() { "$VENV/bin/python" -c "import tagllm_torch, sys; sys.exit(not tagllm_torch.__file__.startswith('$PWD/python/'))" 2>/dev/null; }
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import $IMPORTS" 2>/dev/null && companion_here; then
  echo "python venv ready in $VENV"
  exit 0
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# Name the configured extra indexes as the index, so pip does not wait on an unreachable default one.
index_args=()
extra=$(pip config get global.extra-index-url 2>/dev/null || true)
if [ -n "$extra" ]; then
  read -r -a urls <<<"$extra"
  index_args+=(--index-url "${urls[0]}")
  for u in "${urls[@]:1}"; do index_args+=(--extra-index-url "$u"); done
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${index_args[@]}" "${PACKAGES[@]}"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${index_args[@]}" --no-deps -e python/
"$VENV/bin/python" -c "import $IMPORTS"
echo "python venv ready in $VENV"

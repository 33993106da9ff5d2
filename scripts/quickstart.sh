#!/usr/bin/env bash
# Quick start: install everything, then back up a sample directory to a local destination with the real
# rsb program (rsync, a hard-link snapshot, rotation) and say where the backup and its snapshot are.
# Run it again at any time: every run updates the same backup and adds a snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# In this user's own state directory, never a predictable path in a shared one such as /tmp: whoever made
# /tmp/rsb-quickstart (or a symlink inside it) first would steer what this script, perhaps run as root, writes.
base="${RSB_QUICKSTART_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/rsb-quickstart}"
(umask 077 && mkdir -p "$base")
sample="$base/sample"
destination="$base/backups/latest"

# A small sample tree: a few files, a subdirectory, a symlink.
mkdir -p "$sample/documents/notes"
cp README.md "$sample/documents/README.md"
printf 'Backed up by rsb at %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" > "$sample/documents/notes/today.txt"
ln -sfn documents/README.md "$sample/readme-link"

echo "quickstart: backing up $sample to $destination" >&2
node packages/cli/dist/bin/rsb.js --no-sudo --disable-notifications "$sample" "$destination"

snapshot=$(find "$base/backups" -mindepth 1 -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]' | sort | tail -n 1)
cat <<TXT

rsb made a backup:
  backup (updated by every run): $destination
  snapshot of this run:          $snapshot
  all snapshots:                 $(find "$base/backups" -mindepth 1 -maxdepth 1 -name '[0-9]*' | wc -l) in $base/backups

Restore a file from the snapshot:
  cp -a '$snapshot/documents/notes/today.txt' ./today.txt

Try a dry run (changes nothing) and the JSON summary:
  pnpm rsb --dry-run --no-sudo '$sample' '$destination'
  pnpm rsb --json --no-sudo --disable-notifications '$sample' '$destination'
TXT

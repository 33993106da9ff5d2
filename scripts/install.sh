#!/usr/bin/env bash
# Installs rsb from this clone for every user: builds (incrementally; installs the workspace's dependencies first when
# node_modules is missing), packs the published packages (@rsb/cli and the @rsb libraries it depends on, which are not
# on the npm registry) and installs the tarballs with `npm install --global --prefix PREFIX` (the programs rsb,
# rsync-system-backup and rsb-rotate in PREFIX/bin, the man page rsb(1) in PREFIX/share/man/man1), then the bash
# completion in PREFIX/share/bash-completion/completions/ (rsb, and rsync-system-backup and rsb-rotate linked to it).
# What it installed is listed in PREFIX/share/rsb/installed, and --uninstall removes exactly that (also the
# directories it made). Uses sudo for the steps that write in PREFIX when PREFIX is not writable.
#
#   scripts/install.sh [--prefix=DIR]               install (default PREFIX /usr/local)
#   scripts/install.sh --uninstall [--prefix=DIR]   remove what it installed there
set -euo pipefail

prefix=/usr/local
action=install
usage() { sed -n '10,11s/^# *//p' "$0"; }
for arg in "$@"; do
  case $arg in
    --prefix=?*) prefix=${arg#--prefix=} ;;
    --uninstall) action=uninstall ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "install.sh: unknown argument '$arg'" >&2
      usage >&2
      exit 2
      ;;
  esac
done

say() { echo "install.sh: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

[[ $prefix == /* ]] || prefix=$PWD/$prefix
prefix=${prefix%/}
[[ -n $prefix ]] || die "--prefix=/ is not a place to install into (give /usr/local, /opt/rsb, …)"
cd "$(dirname "$0")/.."

manifest=$prefix/share/rsb/installed
completions=$prefix/share/bash-completion/completions
programs=(rsb rsync-system-backup rsb-rotate)

# as_prefix COMMAND…: runs COMMAND as this user when PREFIX (or its nearest existing parent) is writable, else with sudo
as_prefix() {
  local dir=$prefix
  while [[ ! -e $dir ]]; do dir=$(dirname "$dir"); done
  if [[ -w $dir ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo env "PATH=$PATH" "$@"
  else
    die "$dir is not writable and sudo is missing: run this as root, or give --prefix=DIR"
  fi
}

# the published packages: every packages/*/package.json that is not private, as "NAME DIRECTORY" lines
published() {
  node -e '
    const fs = require("node:fs"), path = require("node:path")
    for (const dir of fs.readdirSync("packages").sort()) {
      const file = path.join("packages", dir, "package.json")
      if (!fs.existsSync(file)) continue
      const manifest = JSON.parse(fs.readFileSync(file, "utf8"))
      if (!manifest.private) console.log(`${manifest.name} ${path.join("packages", dir)}`)
    }'
}

uninstall() {
  if [[ ! -f $manifest ]]; then
    [[ -e $prefix/lib/node_modules/@rsb/cli ]] || die "rsb is not installed in $prefix (no $manifest)"
    die "$prefix/lib/node_modules/@rsb/cli was not installed by scripts/install.sh (no $manifest): remove it with npm uninstall --global --prefix $prefix @rsb/cli"
  fi
  local kind path packages=() files=() dirs=()
  while IFS=' ' read -r kind path; do
    case $kind in
      package) packages+=("$path") ;;
      file) files+=("$path") ;;
      dir) dirs+=("$path") ;;
    esac
  done <"$manifest"
  say "removing ${packages[*]} from $prefix"
  [[ ${#packages[@]} -eq 0 ]] ||
    as_prefix npm uninstall --global --prefix "$prefix" --no-audit --no-fund --loglevel=error "${packages[@]}" >/dev/null
  for path in "${files[@]}"; do
    if [[ -e $path || -L $path ]]; then as_prefix rm -f -- "$path"; fi
  done
  as_prefix rm -f -- "$manifest"
  # the directories it made, deepest first (reverse order: a directory after what is in it), where they are empty now
  while IFS= read -r path; do
    if [[ -d $path ]] && [[ -z $(ls -A -- "$path") ]]; then as_prefix rmdir -- "$path"; fi
  done < <(printf '%s\n' "${dirs[@]}" | sort -r)
  say "uninstalled rsb from $prefix"
}

install() {
  command -v node >/dev/null 2>&1 || die "node is missing: install Node.js 20.19 or newer"
  command -v npm >/dev/null 2>&1 || die "npm is missing (it comes with Node.js)"
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
    die "Node.js 20.19 or newer is required, found $(node --version)"
  if [[ -f $manifest ]]; then
    say "rsb is installed in $prefix already: updating it (the list of what it installed is kept)"
  fi

  if [[ ! -d node_modules ]]; then
    command -v pnpm >/dev/null 2>&1 || die "pnpm is missing: run scripts/setup.sh (it installs pnpm and builds), then this again"
    say "installing the workspace's dependencies (pnpm install)"
    pnpm install --frozen-lockfile --reporter=silent
  fi
  # a build is needed when its output is missing or a source is newer than the man page (its last step)
  if [[ ! -f packages/cli/dist/bin/rsb.js || ! -f packages/cli/man/rsb.1 ]] ||
    [[ -n $(find packages/*/src packages/*/package.json -newer packages/cli/man/rsb.1 -print -quit) ]]; then
    command -v pnpm >/dev/null 2>&1 || die "pnpm is missing: run scripts/setup.sh first"
    say "building (pnpm run build)"
    pnpm run --silent build || die "the build failed"
  fi
  [[ -f packages/cli/man/rsb.1 ]] || die "the build made no packages/cli/man/rsb.1"

  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/rsb-install.XXXXXXXXXX")
  # shellcheck disable=SC2064 # expand $work now
  trap "rm -rf -- '$work'" EXIT
  local name dir packages=()
  while read -r name dir; do
    (cd "$dir" && pnpm pack --pack-destination "$work" >/dev/null) || die "packing $name failed"
    packages+=("$name")
  done < <(published)
  [[ ${#packages[@]} -gt 0 ]] || die "no package to install"

  # the directories that are not there yet: they are ours to remove again
  local new_dirs=() path
  for path in "$prefix" "$prefix/bin" "$prefix/lib" "$prefix/lib/node_modules" "$prefix/lib/node_modules/@rsb" \
    "$prefix/share" "$prefix/share/man" "$prefix/share/man/man1" "$prefix/share/bash-completion" "$completions" \
    "$prefix/share/rsb"; do
    [[ -e $path ]] || new_dirs+=("$path")
  done
  if [[ -f $manifest ]]; then
    while IFS=' ' read -r kind path; do [[ $kind != dir ]] || new_dirs+=("$path"); done <"$manifest"
  fi

  say "installing ${packages[*]} into $prefix (npm install --global)"
  as_prefix npm install --global --prefix "$prefix" --prefer-offline --no-audit --no-fund --loglevel=error "$work"/*.tgz >/dev/null ||
    die "npm install failed"
  "$prefix/bin/rsb" --version >/dev/null || die "$prefix/bin/rsb does not run"

  node packages/cli/dist/bin/rsb.js completion bash >"$work/rsb.bash" || die "rsb completion bash failed"
  as_prefix mkdir -p -- "$completions" "$(dirname "$manifest")"
  as_prefix cp -- "$work/rsb.bash" "$completions/rsb"
  as_prefix chmod 644 -- "$completions/rsb"
  local files=("$completions/rsb")
  for name in rsync-system-backup rsb-rotate; do
    as_prefix ln -sfn rsb "$completions/$name"
    files+=("$completions/$name")
  done

  {
    for name in "${packages[@]}"; do echo "package $name"; done
    for path in "${files[@]}"; do echo "file $path"; done
    # a directory once, in the order they nest
    printf '%s\n' "${new_dirs[@]}" | awk '!seen[$0]++ { print "dir " $0 }'
  } >"$work/installed"
  as_prefix cp -- "$work/installed" "$manifest"
  as_prefix chmod 644 -- "$manifest"

  say "installed $("$prefix/bin/rsb" --version) into $prefix:"
  for name in "${programs[@]}"; do say "  $prefix/bin/$name"; done
  say "  $prefix/share/man/man1/rsb.1 (man rsb)"
  say "  $completions/rsb (bash completion; new shells load it)"
  case ":$PATH:" in *":$prefix/bin:"*) ;; *) say "$prefix/bin is not on PATH: add it to use rsb" ;; esac
  say "remove it with: scripts/install.sh --uninstall$([[ $prefix == /usr/local ]] || printf ' --prefix=%q' "$prefix")"
}

"$action"

#!/usr/bin/env bash
# The whole test suite, in tiers: build and lint, fast unit tests, then the oracle tests that
# run the reference tools (GNU tar, cpio, bsdtar, unsquashfs, xorriso, …), then the CLI tests,
# then the unit and CLI tiers again under the other Node.js majors (same stored hashes), then
# the network tier.
#
# In CI (CI=true) nothing may be skipped: a missing reference tool fails its test, and any test
# that still reports skipped or todo fails the run (each tier's TAP summary is checked, and the
# skipped tests are listed with their reasons).
#
# Other Node.js versions: REPRIMAGE_NODE_VERSIONS (default below) lists exact versions; each is
# installed from the npm registry as the platform package node-<os>-<cpu> (a plain tarball with
# bin/node, no install script) into ~/.cache/reprimage/node/<version> (as root
# /var/cache/reprimage/node/<version>; REPRIMAGE_NODE_CACHE overrides), once. Set it to "" to
# leave them out locally; CI refuses an empty list.
set -euo pipefail
cd "$(dirname "$0")/.."
ci=false
[ "${CI:-}" = true ] && ci=true
node_versions=${REPRIMAGE_NODE_VERSIONS-22.23.5 24.22.3}
# as root, outside /root (mode 0700): the tests that run as nobody start this Node.js too
node_cache=${REPRIMAGE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reprimage/node}
[ "$(id -u)" -ne 0 ] || node_cache=${REPRIMAGE_NODE_CACHE:-/var/cache/reprimage/node}
if $ci && [ -z "$node_versions" ]; then
  echo "run-tiers: CI must test the other Node.js versions (REPRIMAGE_NODE_VERSIONS is empty)" >&2
  exit 1
fi

npm run --silent build
npm run --silent lint
taps=$(mktemp -d)
trap 'rm -rf "$taps"' EXIT
status=0

# run_tier LABEL NODE DIR: one `node --test` run of DIR's *.test.js; spec to the terminal, TAP and
# skip list to files
run_tier() {
  local label=$1 node=$2 dir=$3 rc=0
  echo "== tier: $label ($("$node" --version))"
  # three reporters exceed the runner's default listener limit: Node 20 warns, harmlessly
  # the test files by name: Node 20 takes a directory, Node 22 and later only files or globs
  local files
  mapfile -t files < <(find "$dir" -name '*.test.js' | LC_ALL=C sort)
  [ ${#files[@]} -gt 0 ] || { echo "run-tiers: no test files in $dir" >&2; return 1; }
  "$node" --disable-warning=MaxListenersExceededWarning --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$taps/$label.tap" \
    --test-reporter=./dist/test/helpers/skip-reporter.js --test-reporter-destination="$taps/$label.skips" \
    "${files[@]}" || rc=1
  tier_clean "$label" || rc=1
  return $rc
}

# tier_clean LABEL: the tier's TAP summary exists, and in CI it counts no skipped or todo test
tier_clean() {
  local label=$1 skipped
  if ! grep -q '^# pass ' "$taps/$label.tap"; then
    echo "run-tiers: tier $label wrote no TAP summary" >&2
    return 1
  fi
  skipped=$(awk '/^# skipped /{s+=$3} /^# todo /{s+=$3} END {print s + 0}' "$taps/$label.tap")
  [ "$skipped" -gt 0 ] || return 0
  echo "run-tiers: tier $label: $skipped skipped or todo:"
  sed 's/^/  /' "$taps/$label.skips"
  if $ci; then
    echo "run-tiers: CI=true: a skipped test fails the run (.ci/run installs everything the tests need)" >&2
    return 1
  fi
}

# node_binary VERSION: the path of that Node.js, installed from the npm registry when missing
node_binary() {
  local version=$1 pkg dir bin
  pkg="node-$(node -p process.platform)-$(node -p process.arch)"
  dir="$node_cache/$version"
  bin="$dir/node_modules/$pkg/bin/node"
  if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "v$version" ]; then
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --silent "$pkg@$version" >&2
    chmod -R a+rX "$node_cache"   # tests that switch to nobody run this binary too
  fi
  [ "$("$bin" --version)" = "v$version" ] || { echo "run-tiers: $pkg@$version did not install $bin" >&2; return 1; }
  echo "$bin"
}

for tier in unit oracle cli; do
  if [ -d "dist/test/$tier" ]; then
    run_tier "$tier" node "dist/test/$tier" || status=1
    [ $status -eq 0 ] || break   # a failing tier stops the run: later tiers build on earlier ones
  fi
done

# the same bytes under every supported Node.js major: the unit and CLI tiers pin the hashes
if [ $status -eq 0 ]; then
  for version in $node_versions; do
    bin=$(node_binary "$version") || { status=1; break; }
    for tier in unit cli; do
      # `node` in scripts and child processes is this version too
      PATH="$(dirname "$bin"):$PATH" run_tier "$tier@node${version%%.*}" "$bin" "dist/test/$tier" || status=1
      [ $status -eq 0 ] || break 2
    done
  done
fi

if [ $status -eq 0 ] && [ -d dist/test/network ]; then
  run_tier network node dist/test/network || status=1
fi

# one closing line for the whole run, summed over the tiers
cat "$taps"/*.tap | awk '/^# pass /{p+=$3} /^# fail /{f+=$3} /^# cancelled /{f+=$3} /^# skipped /{s+=$3} /^# todo /{t+=$3}
  END {printf "%d passed, %d failed, %d skipped\n", p, f, s + t}'
exit $status

#!/usr/bin/env bash
# The whole test suite, in tiers: build and lint, fast unit tests, then the oracle tests that
# run the reference tools (GNU tar, cpio, bsdtar, unsquashfs, xorriso, …), then the CLI tests.
# In CI (CI=true) a missing reference tool fails the oracle tier instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
npm run --silent lint
taps=$(mktemp -d)
trap 'rm -rf "$taps"' EXIT
status=0
for tier in unit oracle cli network; do
  if [ -d "dist/test/$tier" ]; then
    echo "== tier: $tier"
    node --test --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$taps/$tier.tap" "dist/test/$tier/" || status=1
    [ $status -eq 0 ] || break   # a failing tier stops the run: later tiers build on earlier ones
  fi
done
# one closing line for the whole run, summed over the tiers
cat "$taps"/*.tap | awk '/^# pass /{p+=$3} /^# fail /{f+=$3} /^# skipped /{s+=$3} /^# todo /{t+=$3}
  END {printf "%d passed, %d failed, %d skipped\n", p, f, s + t}'
exit $status

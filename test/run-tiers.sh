#!/usr/bin/env bash
# The whole test suite, in tiers: build and lint, fast unit tests, then the oracle tests that
# run the reference tools (GNU tar, cpio, bsdtar, …), then the CLI tests.
# In CI (CI=true) a missing reference tool fails the oracle tier instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
npm run --silent lint
for tier in unit oracle cli; do
  if [ -d "dist/test/$tier" ]; then
    echo "== tier: $tier"
    node --test --test-reporter=spec "dist/test/$tier/"
  fi
done

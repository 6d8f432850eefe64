#!/usr/bin/env bash
# The quick example (no root, no network): pack examples/hello-rootfs (plus the entries of
# examples/hello.file-list) into tar and cpio archives, plain and gzip-compressed, and print
# their SHA-256. The hashes are the same on every machine; README.md lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-examples/out}
mkdir -p "$out"
export SOURCE_DATE_EPOCH=1700000000
for format in tar tar.gz cpio cpio.gz; do
  node dist/src/cli/main.js pack examples/hello-rootfs -o "$out/hello.$format" \
    --file-list examples/hello.file-list --owner root --permissions normalize \
    --exclude tmp/.keep --empty var/log/build.log --no-xattrs
done
(cd "$out" && sha256sum hello.tar hello.tar.gz hello.cpio hello.cpio.gz)

#!/usr/bin/env bash
# The main job on the bundled example: build examples/live-minimal, a Debian bookworm live
# system, from its locked packages (deb.debian.org, cached in ~/.cache/reprimage) into a hybrid
# live ISO that boots from CD or USB stick with BIOS or UEFI, and print it with its SHA-256.
# The hash is the same on every machine; README.md lists it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-examples/out/live-minimal}
if [ "$(id -u)" != 0 ]; then
  echo "examples/run.sh: needs root: mmdebstrap builds the root file system in root mode (sudo npm run example)" >&2
  exit 2
fi
if ! command -v mmdebstrap >/dev/null; then
  echo "examples/run.sh: mmdebstrap is not installed (apt-get install mmdebstrap)" >&2
  exit 2
fi
node dist/src/cli/main.js build examples/live-minimal/recipe.yaml -o "$out"
(cd "$out" && sha256sum live.iso)

#!/bin/sh
# rebuilderd backend for images built by reprimage (docs/rebuild.md).
#
# rebuilderd-worker runs a backend as `BACKEND INPUT` with REBUILDERD_OUTDIR set, after it has
# downloaded the build input and every artifact of the queued group into one directory; then it
# compares each artifact it downloaded with the file of the same name in REBUILDERD_OUTDIR, byte
# for byte (GOOD when equal, BAD when different or missing). The import
# (reprimage-rebuilderd-import.mjs) queues a release as: input = its manifest.json, artifacts =
# the image(s) and recipe-inputs.tar. So INPUT is the manifest, and the image and the inputs
# bundle lie beside it, where `reprimage rebuild` looks for them.
#
# The verdict and, for a difference, reprimage's report (which file inside the image differs, and
# how) go to standard output, which the worker keeps as the build log (`rebuildctl pkgs log`).
#
# Settings (environment, e.g. in the worker's systemd unit):
#   REPRIMAGE                  the command (default: reprimage on PATH)
#   REPRIMAGE_CACHE            package cache shared by rebuilds (default: reprimage's own default)
#   REPRIMAGE_REBUILD_OPTIONS  more options for `reprimage rebuild`, e.g. --allow-tool-versions
#   REPRIMAGE_WORK_ROOT        keep each release's work directory here, named by the manifest's
#                              SHA-256: a retry, or the same release queued again, is compared
#                              with the rebuild kept there instead of building again (default:
#                              a temporary directory, removed at the end)
set -eu

if [ "$#" -ne 1 ]; then
	echo "usage: $0 INPUT (run by rebuilderd-worker with REBUILDERD_OUTDIR set)" >&2
	exit 2
fi
input=$1
out=${REBUILDERD_OUTDIR:?REBUILDERD_OUTDIR is not set: rebuilderd-worker sets it}
reprimage=${REPRIMAGE:-reprimage}

if [ -n "${REPRIMAGE_WORK_ROOT:-}" ]; then
	work=$REPRIMAGE_WORK_ROOT/$(sha256sum -- "$input" | cut -c1-64)
	mkdir -p -- "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/reprimage-rebuild.XXXXXX")
	trap 'rm -rf -- "$work"' EXIT
fi

set -- rebuild "$input" -o "$work"
if [ -n "${REPRIMAGE_CACHE:-}" ]; then set -- "$@" --cache "$REPRIMAGE_CACHE"; fi
# word splitting of the options is wanted here
# shellcheck disable=SC2086
set -- "$@" ${REPRIMAGE_REBUILD_OPTIONS:-}

status=0
"$reprimage" "$@" || status=$?

case $status in
0 | 1)
	# reproduced or differs: hand every rebuilt output to the worker, which makes its own
	# byte-for-byte comparison (GOOD/BAD) against what it downloaded
	for f in "$work/rebuilt/"*; do
		case ${f##*/} in
		manifest.json | provenance.intoto.json) ;;
		*) cp -- "$f" "$out/" ;;
		esac
	done
	# the verification statement and report travel with the outputs, for an operator who keeps them
	cp -- "$work/rebuild.intoto.json" "$work/rebuild.json" "$out/"
	echo "reprimage: rebuilt outputs are in $out"
	exit 0
	;;
*)
	# cannot rebuild (an input missing, a package gone from the archive, a tool version the
	# manifest does not allow) or bad input: no output, so the worker records BAD; the reason is
	# the last line of the log
	echo "reprimage: no rebuild (exit $status)" >&2
	exit "$status"
	;;
esac

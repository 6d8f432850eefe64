#!/bin/sh
# Verify releases with a real rebuilderd and this backend, all on 127.0.0.1, in a Debian trixie
# chroot (rebuilderd 0.24, rebuilderd-worker and rebuildctl 0.23.1 as Debian ships them).
#
#   unshare --mount --pid --fork sh contrib/rebuilderd/try-in-trixie-chroot.sh RELEASE...
#
# Each RELEASE is a directory holding manifest.json, the image(s) and recipe-inputs.tar (what
# `reprimage build` writes); each is queued in its own suite, named after the directory, in the
# order given. The script makes the chroot with mmdebstrap in a new directory (removed at the
# end), copies this checkout's built reprimage into it, serves the releases with python3's
# http.server, starts rebuilderd and one worker with the reprimage backend, waits (at most
# $TIMEOUT seconds, default 1800) until every artifact has a status, prints `rebuildctl pkgs ls`
# and the build log of each release, and stops everything it started. The worker rebuilds for
# real: mmdebstrap runs inside the chroot. Releases sharing a manifest (a tampered copy of a
# release) share the backend's work directory, so the second is compared with the first's rebuild.
#
# Root is needed (chroot, mounts). Run it in its own mount and PID namespaces as above: then no
# mount or process outlives it, whatever stops it.
#   PORT          rebuilderd's port on 127.0.0.1 (default 18484); the releases are served on PORT+1
#   WORK_ROOT     where the chroot and the served copies are made (default /var/tmp)
#   CHROOT_CACHE  keep the chroot as a tarball in this directory, named by what decides its
#                 contents: the package list and the SHA-256 of trixie's InRelease (a new state
#                 of the archive makes a new one; older ones are removed)
set -eu
[ "$#" -ge 1 ] || { echo "usage: $0 RELEASE..." >&2; exit 2; }
here=$(cd "$(dirname "$0")/../.." && pwd)
port=${PORT:-18484}
web=$((port + 1))
timeout=${TIMEOUT:-1800}
mirror=http://deb.debian.org/debian
include=rebuilderd,rebuilderd-worker,rebuildctl,nodejs,ca-certificates,mmdebstrap,debian-archive-keyring
chroot_dir=$(mktemp -d "${WORK_ROOT:-/var/tmp}/reprimage-rebuilderd.XXXXXX")
site=$(mktemp -d "${WORK_ROOT:-${TMPDIR:-/tmp}}/reprimage-rebuilderd-site.XXXXXX")
pids=""
cleanup() {
	for pid in $pids; do kill "$pid" 2>/dev/null || true; done
	for pid in $pids; do while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; done
	# every mount under the chroot (its /proc and /dev, and those of a build the worker left), deepest first
	awk -v root="$chroot_dir" '$5 == root || index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
	rm -rf --one-file-system "$chroot_dir" "$site"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${CHROOT_CACHE:-}" ]; then
	archive_state=$(node -e 'fetch(process.argv[1]).then(async (r) => { if (!r.ok) throw new Error(`${r.status} ${r.url}`); console.log(require("crypto").createHash("sha256").update(Buffer.from(await r.arrayBuffer())).digest("hex")); })' "$mirror/dists/trixie/InRelease")
	key=$(printf '%s %s %s\n' "$include" "$archive_state" "$(dpkg-query -W -f '${Version}' mmdebstrap)" | sha256sum | cut -c1-32)
	tarball=$CHROOT_CACHE/trixie-rebuilderd-$key.tar
	if [ ! -f "$tarball" ]; then
		mkdir -p "$CHROOT_CACHE"
		rm -f "$CHROOT_CACHE"/trixie-rebuilderd-*.tar
		mmdebstrap --quiet --variant=apt --include="$include" trixie "$tarball.partial.tar" "$mirror"
		mv "$tarball.partial.tar" "$tarball"
	fi
	tar -xf "$tarball" -C "$chroot_dir"
else
	mmdebstrap --quiet --variant=apt --include="$include" trixie "$chroot_dir" "$mirror"
fi
mkdir -p "$chroot_dir/opt/reprimage" "$chroot_dir/var/lib/rebuilderd" "$chroot_dir/var/lib/reprimage-work"
cp -a "$here/package.json" "$here/dist" "$here/node_modules" "$here/contrib" "$chroot_dir/opt/reprimage/"
printf '#!/bin/sh\nexec node /opt/reprimage/dist/src/cli/main.js "$@"\n' >"$chroot_dir/usr/local/bin/reprimage"
chmod +x "$chroot_dir/usr/local/bin/reprimage"
cat >"$chroot_dir/etc/rebuilderd.conf" <<CONF
[http]
bind_addr = "127.0.0.1:$port"
endpoint = "http://127.0.0.1:$port"
[auth]
cookie = "reprimage-local-cookie"
[worker]
signup_secret = "reprimage-local-secret"
CONF
cat >"$chroot_dir/etc/rebuilderd-worker.conf" <<CONF
endpoint = "http://127.0.0.1:$port"
signup_secret = "reprimage-local-secret"
[build]
timeout = $timeout
[diffoscope]
enabled = false
[backend."reprimage"]
path = "/opt/reprimage/contrib/rebuilderd/rebuilder-reprimage.sh"
CONF
mount -t proc proc "$chroot_dir/proc"
mount --bind /dev "$chroot_dir/dev"

for release in "$@"; do cp -a "$release" "$site/$(basename "$release")"; done
python3 -m http.server "$web" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
pids="$pids $!"
chroot "$chroot_dir" sh -c 'cd /var/lib/rebuilderd && exec rebuilderd -c /etc/rebuilderd.conf' >"$site/rebuilderd.log" 2>&1 &
pids="$pids $!"
# both answer within a minute, even on a busy machine
ready() {
	for _ in $(seq 120); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	echo "$0: no answer from: $*" >&2
	exit 1
}
ready node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$web/"
ready chroot "$chroot_dir" rebuildctl status
artifacts=0
for release in "$@"; do
	name=$(basename "$release")
	node "$here/contrib/rebuilderd/reprimage-rebuilderd-import.mjs" --api v0 --suite "$name" "http://127.0.0.1:$web/$name/manifest.json" |
		chroot "$chroot_dir" rebuildctl pkgs sync-stdin reprimage "$name"
	artifacts=$((artifacts + $(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).reproducible.outputs.length + 1)' "$release/manifest.json")))
done
# the backend's settings reach it through the worker's environment
chroot "$chroot_dir" env REPRIMAGE_WORK_ROOT=/var/lib/reprimage-work REPRIMAGE_REBUILD_OPTIONS="${REPRIMAGE_REBUILD_OPTIONS:-}" HOME=/root \
	sh -c 'cd /tmp && exec rebuilderd-worker -n reprimage-local -c /etc/rebuilderd-worker.conf connect' >"$site/worker.log" 2>&1 &
pids="$pids $!"
deadline=$(($(date +%s) + timeout))
while [ "$(date +%s)" -lt "$deadline" ]; do
	done_count=$(chroot "$chroot_dir" rebuildctl pkgs ls --distro reprimage 2>/dev/null | grep -c -e '^\[GOOD' -e '^\[BAD' || true)
	[ "$done_count" -ge "$artifacts" ] && break
	sleep 2
done
chroot "$chroot_dir" rebuildctl pkgs ls --distro reprimage
echo "--- rebuildctl pkgs ls --json:"
chroot "$chroot_dir" rebuildctl pkgs ls --distro reprimage --json
for release in "$@"; do
	name=$(basename "$release")
	echo "--- build log of $name:"
	chroot "$chroot_dir" rebuildctl pkgs log --distro reprimage --suite "$name" --name "$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).reproducible.outputs[0].path)' "$release/manifest.json")" 2>&1 | tail -n 40
done

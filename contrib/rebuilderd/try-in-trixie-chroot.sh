#!/bin/sh
# Verify releases with a real rebuilderd and this backend, all on 127.0.0.1, in a Debian trixie
# chroot (rebuilderd 0.24, rebuilderd-worker and rebuildctl 0.23.1 as Debian ships them).
#
#   sh contrib/rebuilderd/try-in-trixie-chroot.sh RELEASE... 
#
# Each RELEASE is a directory holding manifest.json, the image(s) and recipe-inputs.tar (what
# `reprimage build` writes); each is queued in its own suite, named after the directory. The
# script makes the chroot with mmdebstrap (or reuses $CHROOT), copies this checkout's built
# reprimage into it, serves the releases with python3's http.server, starts rebuilderd and one
# worker with the reprimage backend, waits (at most $TIMEOUT seconds, default 1800) until every
# artifact has a status, prints `rebuildctl pkgs ls`, and stops everything it started.
# Root is needed (chroot, mounts). The worker runs mmdebstrap inside the chroot for a real
# rebuild; $SEED (a `reprimage rebuild -o` directory of the same release) skips that build:
# it is placed where the backend keeps its work directories, so the worker compares with it.
set -eu
[ "$#" -ge 1 ] || { echo "usage: $0 RELEASE..." >&2; exit 2; }
here=$(cd "$(dirname "$0")/../.." && pwd)
port=${PORT:-18484}
web=$((port + 1))
timeout=${TIMEOUT:-1800}
chroot_dir=${CHROOT:-/var/tmp/reprimage-rebuilderd-trixie}
pids=""
cleanup() {
	for pid in $pids; do kill "$pid" 2>/dev/null || true; done
	for pid in $pids; do while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; done
	for m in proc dev; do mountpoint -q "$chroot_dir/$m" && umount "$chroot_dir/$m"; done
	return 0
}
trap cleanup EXIT INT TERM

if [ ! -x "$chroot_dir/usr/bin/rebuilderd" ]; then
	mmdebstrap --variant=apt --include=rebuilderd,rebuilderd-worker,rebuildctl,nodejs,ca-certificates,mmdebstrap,debian-archive-keyring \
		trixie "$chroot_dir" http://deb.debian.org/debian
fi
rm -rf "$chroot_dir/opt/reprimage" "$chroot_dir/var/lib/rebuilderd" "$chroot_dir/var/lib/reprimage-work"
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
if [ -n "${SEED:-}" ]; then
	cp -a "$SEED" "$chroot_dir/var/lib/reprimage-work/$(sha256sum -- "$1/manifest.json" | cut -c1-64)"
fi
mount -t proc proc "$chroot_dir/proc"
mount --bind /dev "$chroot_dir/dev"

site=$(mktemp -d)
for release in "$@"; do cp -a "$release" "$site/$(basename "$release")"; done
python3 -m http.server "$web" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
pids="$pids $!"
chroot "$chroot_dir" sh -c 'cd /var/lib/rebuilderd && exec rebuilderd -c /etc/rebuilderd.conf' >"$site/rebuilderd.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 50); do
	chroot "$chroot_dir" rebuildctl status >/dev/null 2>&1 && break
	sleep 0.2
done
artifacts=0
for release in "$@"; do
	name=$(basename "$release")
	node "$here/contrib/rebuilderd/reprimage-rebuilderd-import.mjs" --api v0 --suite "$name" "http://127.0.0.1:$web/$name/manifest.json" |
		chroot "$chroot_dir" rebuildctl pkgs sync-stdin reprimage "$name"
	artifacts=$((artifacts + $(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).reproducible.outputs.length + 1)' "$release/manifest.json")))
done
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
for release in "$@"; do
	echo "--- build log of $(basename "$release"):"
	chroot "$chroot_dir" rebuildctl pkgs log --distro reprimage --suite "$(basename "$release")"  --name "$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).reproducible.outputs[0].path)' "$release/manifest.json")" 2>/dev/null | head -12
done
rm -rf "$site"

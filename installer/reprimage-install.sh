#!/bin/sh
# reprimage-install: writes the disk image an installer ISO carries onto a disk (docs/installer.md).
# Run by busybox ash inside the installer's initramfs, by its /init; also runs on a host with
# busybox against a disk image file (--allow-file), which is how the tests drive it.
#
#   reprimage-install.sh --medium DIR [--medium-device DEV] [--target DEV] [--allow-file]
#
# DIR is the mounted medium (it holds install/image.conf); DEV the device it was mounted from.
# Without --target it lists the disks and asks once on the console.
# Exit status: 0 installed, 2 refused (nothing written), 1 failed while writing or verifying.
#
# Order of work: every refusal (no such disk, the boot medium, mounted, too small, a damaged
# image on the medium) happens before the first byte is written. Then the image is streamed
# onto the disk, read back and hashed, and on a larger disk the backup GPT moves to its end.
# Partitions and file systems grow on the installed system's first boot, not here.
set -u

PROGRAM=reprimage-install
MEDIUM=
MEDIUM_DEVICE=
TARGET=
ALLOW_FILE=

say() { echo "$PROGRAM: $*"; }
refuse() {
	say "refused: $*; nothing was written"
	exit 2
}
fail() {
	say "failed: $*"
	exit 1
}

while [ $# -gt 0 ]; do
	case "$1" in
	--medium) MEDIUM=$2; shift 2 ;;
	--medium-device) MEDIUM_DEVICE=$2; shift 2 ;;
	--target) TARGET=$2; shift 2 ;;
	--allow-file) ALLOW_FILE=1; shift ;;
	*) refuse "unknown argument $1" ;;
	esac
done
[ -n "$MEDIUM" ] && [ -f "$MEDIUM/install/image.conf" ] || refuse "no installer medium ($MEDIUM/install/image.conf is missing)"

# IMAGE_NAME IMAGE_SIZE IMAGE_SHA256 COMPRESSED_FILE COMPRESSED_CODEC COMPRESSED_SIZE COMPRESSED_SHA256
. "$MEDIUM/install/image.conf"
COMPRESSED="$MEDIUM/$COMPRESSED_FILE"

# --- disks -----------------------------------------------------------------------------------

# The kernel's name of a device node (/dev/vda -> vda), or empty.
block_name() {
	[ -b "$1" ] || return 0
	r=$(readlink -f "$1")
	echo "${r##*/}"
}

# The whole disk a block device belongs to (vda1 -> vda, vda -> vda).
disk_of() {
	if [ -e "/sys/class/block/$1/partition" ]; then
		p=$(readlink -f "/sys/class/block/$1/..")
		echo "${p##*/}"
	else
		echo "$1"
	fi
}

# Size in bytes of a disk (block device or, with --allow-file, a file).
size_of() {
	if [ -b "$1" ]; then
		echo $(($(cat "/sys/class/block/$(block_name "$1")/size") * 512))
	else
		stat -c %s "$1"
	fi
}

human() {
	awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ } printf (i == 1 ? "%d %s" : "%.1f %s"), b, u[i] }'
}

# Whole disks worth offering: not the medium, not RAM, loop or optical devices.
list_disks() {
	medium_disk=
	[ -n "$MEDIUM_DEVICE" ] && [ -b "$MEDIUM_DEVICE" ] && medium_disk=$(disk_of "$(block_name "$MEDIUM_DEVICE")")
	for d in /sys/block/*; do
		n=${d##*/}
		case "$n" in loop* | ram* | sr* | zram* | fd*) continue ;; esac
		[ "$n" = "$medium_disk" ] && continue
		[ "$(cat "$d/size")" -gt 0 ] || continue
		model=$(cat "$d/device/model" 2>/dev/null | sed 's/ *$//')
		[ -n "$model" ] || model=$(cat "$d/device/vendor" 2>/dev/null | sed 's/ *$//')
		echo "/dev/$n  $(human $(($(cat "$d/size") * 512)))  ${model:-unknown model}"
	done
}

ask_target() {
	disks=$(list_disks)
	[ -n "$disks" ] || refuse "no disk to install onto (the boot medium is not offered)"
	echo "Disks:"
	echo "$disks" | sed 's/^/  /'
	printf '%s\n' "Install $IMAGE_NAME ($(human "$IMAGE_SIZE")) onto which disk? Everything on it is lost."
	printf 'Type its name (e.g. %s), or press Enter to cancel: ' "$(echo "$disks" | head -n 1 | cut -d ' ' -f 1)"
	read -r answer || answer=
	[ -n "$answer" ] || refuse "cancelled"
	case "$answer" in /dev/*) TARGET=$answer ;; *) TARGET=/dev/$answer ;; esac
}

# --- refusals (before any write) ---------------------------------------------------------------

check_target() {
	if [ -b "$TARGET" ]; then
		name=$(block_name "$TARGET")
		[ -e "/sys/class/block/$name/partition" ] && refuse "$TARGET is a partition; name the whole disk ($(disk_of "$name"))"
		if [ -n "$MEDIUM_DEVICE" ] && [ -b "$MEDIUM_DEVICE" ]; then
			[ "$(disk_of "$(block_name "$MEDIUM_DEVICE")")" = "$name" ] && refuse "$TARGET is the boot medium"
		fi
		# mounted: the disk or one of its partitions appears in /proc/mounts (or is used as swap)
		for dev in $(awk '{ print $1 }' /proc/mounts; awk 'NR > 1 { print $1 }' /proc/swaps); do
			[ -b "$dev" ] || continue
			[ "$(disk_of "$(block_name "$dev")")" = "$name" ] && refuse "$TARGET is mounted ($dev)"
		done
	elif [ -f "$TARGET" ] && [ -n "$ALLOW_FILE" ]; then
		[ "$TARGET" = "$MEDIUM_DEVICE" ] && refuse "$TARGET is the boot medium"
		grep -q "^$TARGET " /proc/mounts && refuse "$TARGET is mounted"
	else
		refuse "$TARGET: no such disk"
	fi
	DISK_SIZE=$(size_of "$TARGET")
	[ "$DISK_SIZE" -ge "$IMAGE_SIZE" ] || refuse "$TARGET is too small: $DISK_SIZE bytes ($(human "$DISK_SIZE")), the image needs $IMAGE_SIZE ($(human "$IMAGE_SIZE"))"
}

check_medium() {
	say "checking the image on the medium ($COMPRESSED_FILE, $(human "$COMPRESSED_SIZE"))"
	[ -f "$COMPRESSED" ] || refuse "the image on the medium is missing ($COMPRESSED_FILE)"
	size=$(stat -c %s "$COMPRESSED")
	[ "$size" = "$COMPRESSED_SIZE" ] || refuse "the image on the medium is damaged: $COMPRESSED_FILE has $size bytes, expected $COMPRESSED_SIZE"
	sum=$(sha256sum "$COMPRESSED" | cut -d ' ' -f 1)
	[ "$sum" = "$COMPRESSED_SHA256" ] || refuse "the image on the medium is damaged: SHA-256 of $COMPRESSED_FILE is $sum, expected $COMPRESSED_SHA256"
}

# --- writing ---------------------------------------------------------------------------------

# Prints "LABEL: N MiB of M MiB (P%)" every few seconds while process PID runs, from its I/O
# counter FIELD in /proc/PID/io (wchar: bytes written, rchar: bytes read).
watch_progress() {
	pid=$1 field=$2 total=$3 label=$4
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		done_bytes=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/io" 2>/dev/null)
		[ -n "$done_bytes" ] || continue
		[ "$done_bytes" -gt "$total" ] && done_bytes=$total
		say "$label: $((done_bytes / 1048576)) MiB of $((total / 1048576)) MiB ($((done_bytes * 100 / total))%)"
	done
}

decompress() {
	case "$COMPRESSED_CODEC" in
	gzip) gunzip -c "$COMPRESSED" ;;
	*) fail "unknown codec $COMPRESSED_CODEC" ;;
	esac
}

write_image() {
	say "writing $IMAGE_NAME ($IMAGE_SIZE bytes) onto $TARGET"
	decompress | dd of="$TARGET" bs=4M conv=notrunc status=none &
	writer=$!
	watch_progress "$writer" wchar "$IMAGE_SIZE" writing &
	watcher=$!
	wait "$writer"
	status=$?
	kill "$watcher" 2>/dev/null
	wait "$watcher" 2>/dev/null
	[ "$status" = 0 ] || fail "writing $TARGET failed (dd exit status $status)"
	sync
	if [ -b "$TARGET" ]; then
		blockdev --flushbufs "$TARGET" 2>/dev/null
		# read back from the disk, not from the page cache
		echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	fi
}

verify_image() {
	say "verifying what was written (reading $IMAGE_SIZE bytes back)"
	pipe=/tmp/reprimage-install.$$.pipe
	mkfifo "$pipe" || fail "cannot make a pipe in /tmp"
	sha256sum <"$pipe" >"$pipe.sum" &
	hasher=$!
	dd if="$TARGET" of="$pipe" bs=4M count="$IMAGE_SIZE" iflag=count_bytes status=none &
	reader=$!
	watch_progress "$reader" rchar "$IMAGE_SIZE" verifying &
	watcher=$!
	wait "$reader"
	status=$?
	wait "$hasher"
	kill "$watcher" 2>/dev/null
	wait "$watcher" 2>/dev/null
	sum=$(cut -d ' ' -f 1 "$pipe.sum")
	rm -f "$pipe" "$pipe.sum"
	[ "$status" = 0 ] || fail "reading $TARGET back failed (dd exit status $status)"
	[ "$sum" = "$IMAGE_SHA256" ] || fail "$TARGET does not hold the image after writing: SHA-256 $sum, expected $IMAGE_SHA256"
	say "verified: SHA-256 $sum"
}

# --- the backup GPT at the end of a larger disk ----------------------------------------------

# Little-endian unsigned field of WIDTH bytes at byte OFFSET of FILE.
read_le() {
	od -A n -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' '
}

# Writes the WIDTH-byte little-endian VALUE at byte OFFSET of FILE.
write_le() {
	file=$1 offset=$2 width=$3 value=$4 bytes= i=0
	while [ "$i" -lt "$width" ]; do
		bytes="$bytes$(printf '\\%03o' $((value & 255)))"
		value=$((value >> 8))
		i=$((i + 1))
	done
	# shellcheck disable=SC2059 # the escapes are the bytes
	printf "$bytes" | dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

# The header CRC32 (offset 16) of the GPT header in FILE, computed with the field zeroed.
seal_header() {
	write_le "$1" 16 4 0
	crc=$(head -c "$(read_le "$1" 12 4)" "$1" | crc32)
	write_le "$1" 16 4 $((0x$crc))
}

# Moves the backup GPT from the image's last sector to the disk's, as sgdisk -e does: the
# primary header's alternate LBA and last usable LBA change, the entries (and so their CRC)
# stay, and the backup header and entries are written at the end. The backup is written before
# the primary header points at it.
relocate_gpt() {
	[ "$DISK_SIZE" -gt "$IMAGE_SIZE" ] || return 0
	header=/tmp/reprimage-install.$$.gpt
	dd if="$TARGET" of="$header" bs=512 skip=1 count=1 status=none
	[ "$(head -c 8 "$header")" = "EFI PART" ] || { rm -f "$header"; say "no GPT on the image: nothing to relocate"; return 0; }
	last=$((DISK_SIZE / 512 - 1))
	entries_lba=$(read_le "$header" 72 8)
	entry_sectors=$((($(read_le "$header" 80 4) * $(read_le "$header" 84 4) + 511) / 512))
	say "moving the backup GPT to the end of $TARGET (sector $last)"
	write_le "$header" 32 8 "$last"
	write_le "$header" 48 8 $((last - entry_sectors - 1))
	seal_header "$header"
	backup=$header.backup
	cp "$header" "$backup"
	write_le "$backup" 24 8 "$last"
	write_le "$backup" 32 8 1
	write_le "$backup" 72 8 $((last - entry_sectors))
	seal_header "$backup"
	dd if="$TARGET" of="$TARGET" bs=512 skip="$entries_lba" seek=$((last - entry_sectors)) count="$entry_sectors" conv=notrunc status=none || fail "writing the backup GPT entries failed"
	dd if="$backup" of="$TARGET" bs=512 seek="$last" conv=notrunc status=none || fail "writing the backup GPT header failed"
	sync
	dd if="$header" of="$TARGET" bs=512 seek=1 conv=notrunc status=none || fail "writing the primary GPT header failed"
	sync
	rm -f "$header" "$backup"
}

# --- main ------------------------------------------------------------------------------------

say "$IMAGE_NAME: $IMAGE_SIZE bytes, SHA-256 $IMAGE_SHA256"
[ -n "$TARGET" ] || ask_target
check_target
check_medium
write_image
verify_image
relocate_gpt
say "installed $IMAGE_NAME onto $TARGET ($(human "$DISK_SIZE")); partitions grow on first boot"
exit 0

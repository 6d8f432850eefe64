#!/bin/bash
# Makes the fuzz seeds: small images and streams written by the reference tools (the test
# fixtures under test/fixtures are seeds too). Each is kept under 1 MiB, the fuzzer's input cap.
# Run from the repository root: bash fuzz/make-seeds.sh
set -euo pipefail
out=fuzz/seeds
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000 TZ=UTC LC_ALL=C

# the tree every image holds: nested directories, a long name, links, a multi-block file, an empty file
t=$work/tree
mkdir -p "$t/etc/deep/er/still" "$t/usr/share/doc"
printf 'hello, fuzzer\n' >"$t/etc/hello"
printf 'a name long enough to need extensions in every format\n' >"$t/usr/share/doc/a-file-name-long-enough-to-need-long-name-support.txt"
seq 1 1500 >"$t/usr/share/numbers"
: >"$t/etc/empty"
printf 'x' >"$t/etc/deep/er/still/leaf"
ln -s ../etc/hello "$t/usr/link"
ln "$t/etc/hello" "$t/etc/hardlink"
find "$t" -exec touch -h -d @1700000000 {} +

rm -rf "$out" && mkdir -p "$out"/{tar,cpio,initramfs,squashfs,iso9660,fat,ext4,gpt,zip,ar,gzip,xz,zstd,lz4,lzma,recipe,deb822,inrelease,file-list,qcow2,vhd,vmdk}

for f in gnu posix ustar v7; do tar -C "$t" --format=$f --sort=name --owner=0 --group=0 -cf "$out/tar/$f.tar" . 2>/dev/null || true; done
for f in newc crc odc; do (cd "$t" && find . | LC_ALL=C sort | cpio -o -H $f --quiet) >"$out/cpio/$f.cpio"; done

(cd "$t" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$work/root.cpio"
gzip -9n <"$work/root.cpio" >"$out/initramfs/gzip.img"
xz --check=crc32 <"$work/root.cpio" >"$out/initramfs/xz.img"
zstd -q -19 <"$work/root.cpio" >"$out/initramfs/zstd.img"
lz4 -q -l <"$work/root.cpio" >"$out/initramfs/lz4legacy.img"
cat "$work/root.cpio" "$out/initramfs/gzip.img" >"$out/initramfs/plain-then-gzip.img"

for c in gzip xz zstd lz4; do mksquashfs "$t" "$out/squashfs/$c.sqfs" -comp $c -b 4096 -noappend -quiet -no-progress >/dev/null; done
mksquashfs "$t" "$out/squashfs/nofrag-noxattr.sqfs" -comp gzip -no-fragments -no-xattrs -noappend -quiet -no-progress >/dev/null

xorriso -as mkisofs -quiet -R -J -V FUZZ -o "$out/iso9660/rr-joliet.iso" "$t" 2>/dev/null
xorriso -as mkisofs -quiet -iso-level 1 -o "$out/iso9660/plain.iso" "$t" 2>/dev/null

mkfs.fat -C -i 12345678 -n FUZZ "$out/fat/fat12.img" 256 >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$out/fat/fat12.img" "$t/etc" "$t/usr" ::/ 2>/dev/null || true

for fs in ext2 ext4; do
  mke2fs -q -t $fs -b 1024 -N 64 -O ^has_journal -U 11111111-2222-3333-4444-555555555555 -E hash_seed=11111111-2222-3333-4444-555555555555 -d "$t" "$out/ext4/$fs.img" 512
done
mke2fs -q -t ext4 -b 1024 -N 64 -O ^has_journal,^metadata_csum,inline_data -d "$t" "$out/ext4/inline.img" 512

truncate -s 512K "$out/gpt/gpt.img"
sgdisk -o -U 11111111-2222-3333-4444-555555555555 -n 1:34:+100K -t 1:ef00 -c 1:esp -n 2:0:+200K -t 2:8300 "$out/gpt/gpt.img" >/dev/null
truncate -s 512K "$out/gpt/mbr.img"
printf 'label: dos\nlabel-id: 0x12345678\nstart=1, size=200, type=83\nstart=201, size=300, type=5\nstart=202, size=50, type=83\nstart=260, size=50, type=83\n' | sfdisk -q "$out/gpt/mbr.img" >/dev/null

# VM images of a small disk (the GPT seed with an ext2 file system in it), made by qemu-img with 4 KiB
# clusters where it has the option, so that the seeds stay small; a dynamic VHD from qemu-img is
# a 2 MiB block at least (over the input cap), so that one is ours, with 4 KiB blocks (needs dist/)
cp "$out/gpt/gpt.img" "$work/disk.img"
dd if="$out/ext4/ext2.img" of="$work/disk.img" bs=512 seek=34 count=200 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 -o cluster_size=4096 "$work/disk.img" "$out/qcow2/plain.qcow2"
qemu-img convert -c -f raw -O qcow2 -o cluster_size=4096 "$work/disk.img" "$out/qcow2/compressed.qcow2"
qemu-img convert -f raw -O qcow2 -o cluster_size=4096,compat=0.10 "$work/disk.img" "$out/qcow2/v2.qcow2"
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size "$work/disk.img" "$out/vhd/fixed.vhd"
node --input-type=module -e '
  const { writeVhd } = await import(process.cwd() + "/dist/src/formats/vhd/index.js");
  const { writeAtomically } = await import(process.cwd() + "/dist/src/io/atomic-output.js");
  const { openFileSource } = await import(process.cwd() + "/dist/src/io/source.js");
  const src = await openFileSource(process.argv[1]);
  await writeAtomically(process.argv[2], (sink) => writeVhd(src, sink, { type: "dynamic", blockSize: 4096, seed: "fuzz", buildTime: 1700000000 }));
  await src.close();' "$work/disk.img" "$out/vhd/dynamic-4k.vhd"
qemu-img convert -f raw -O vmdk "$work/disk.img" "$out/vmdk/monolithic-sparse.vmdk"
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$work/disk.img" "$out/vmdk/stream-optimized.vmdk"

(cd "$t" && zip -qrX "$OLDPWD/$out/zip/deflated.zip" . && zip -qrX0 "$OLDPWD/$out/zip/stored.zip" .)
(cd "$t" && ar rcD "$OLDPWD/$out/ar/gnu.a" etc/hello usr/share/numbers usr/share/doc/a-file-name-long-enough-to-need-long-name-support.txt)

head -c 20000 "$t/usr/share/numbers" >"$work/text"
gzip -9n <"$work/text" >"$out/gzip/text.gz"
cat "$out/gzip/text.gz" "$out/gzip/text.gz" >"$out/gzip/two-members.gz"
xz <"$work/text" >"$out/xz/text.xz"
xz --check=sha256 --block-size=4096 <"$work/text" >"$out/xz/blocks.xz"
xz --format=lzma <"$work/text" >"$out/lzma/text.lzma"
zstd -q <"$work/text" >"$out/zstd/text.zst"
zstd -q --no-check -B4096 <"$work/text" >"$out/zstd/blocks.zst"
lz4 -q <"$work/text" >"$out/lz4/frame.lz4"
lz4 -q -l <"$work/text" >"$out/lz4/legacy.lz4"
lz4 -q --content-size -BD -B4 <"$work/text" >"$out/lz4/linked.lz4"

cat >"$out/deb822/Release" <<'R'
Origin: Debian
Label: Debian
Suite: stable
Codename: bookworm
Date: Sat, 07 Oct 2023 09:00:00 UTC
Architectures: amd64 arm64
Components: main contrib
Description: Debian 12.2 Released 07 October 2023
SHA256:
 0ed6d4c8891eb86358b94bb35d9e4da3ef9e4f1f4fb2a4c2b8b1c9b8c5e3d2a1  1484322 main/binary-amd64/Packages
 1ed6d4c8891eb86358b94bb35d9e4da3ef9e4f1f4fb2a4c2b8b1c9b8c5e3d2a1  12345 main/binary-amd64/Packages.xz
R
cat >"$out/deb822/Packages" <<'P'
Package: hello
Version: 2.10-3
Architecture: amd64
Depends: libc6 (>= 2.34)
Pre-Depends: dpkg (>= 1.19)
Filename: pool/main/h/hello/hello_2.10-3_amd64.deb
Size: 52940
SHA256: 1ed6d4c8891eb86358b94bb35d9e4da3ef9e4f1f4fb2a4c2b8b1c9b8c5e3d2a1
Description: example package based on GNU hello

Package: libc6
Source: glibc (2.36-9)
Version: 2.36-9+deb12u3
Architecture: amd64
Provides: libc6-dev-any
Filename: pool/main/g/glibc/libc6_2.36-9+deb12u3_amd64.deb
Size: 2757936
SHA256: 2ed6d4c8891eb86358b94bb35d9e4da3ef9e4f1f4fb2a4c2b8b1c9b8c5e3d2a1
P

export GNUPGHOME=$work/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg -q --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'fuzz <fuzz@example.invalid>' ed25519 sign never 2>/dev/null
gpg -q --batch --armor --export fuzz@example.invalid >fuzz/seeds/inrelease-key.asc
gpg -q --batch --pinentry-mode loopback --passphrase '' --clearsign -o "$out/inrelease/InRelease" "$out/deb822/Release" 2>/dev/null

cat >"$out/file-list/all-kinds.list" <<'L'
# every entry kind
dir  /dev 0755 0 0
nod  /dev/console 0600 0 5 c 5 1
nod  /dev/sda 0660 0 6 b 8 0
pipe /run/fifo 0644 0 0
sock /run/sock 0644 0 0
slink /bin/sh "busy box" 0777 0 0
file /etc/motd 0644 0 0
L
ls -lR "$out" | awk '$5 > 1048576 {print "too big:", $0}'

#!/bin/busybox sh
# /init of the installer's initramfs (docs/installer.md): busybox's applets, the kernel modules
# the build listed (in dependency order), then the installer medium, found by the image it
# carries; then reprimage-install, unattended when the kernel command line names the target
# (reprimage.install=/dev/vda), else interactive; then what reprimage.after says:
# poweroff (the default), reboot, or shell.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp /medium
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
. /etc/reprimage-installer.conf # MEDIUM_IMAGE_SHA256 MODULES

for module in $MODULES; do
	insmod "/lib/modules/$module" 2>/dev/null
done

target= after=poweroff
for word in $(cat /proc/cmdline); do
	case "$word" in
	reprimage.install=*) target=${word#reprimage.install=} ;;
	reprimage.after=*) after=${word#reprimage.after=} ;;
	esac
done

# The medium: an ISO 9660 file system whose install/image.conf names our image. Disks and
# CD drives may appear a little after the modules load, so look for half a minute.
medium_device=
tries=0
while [ -z "$medium_device" ] && [ "$tries" -lt 30 ]; do
	for dev in /sys/class/block/*; do
		node=/dev/${dev##*/}
		mount -t iso9660 -o ro "$node" /medium 2>/dev/null || continue
		if grep -q "^IMAGE_SHA256=$MEDIUM_IMAGE_SHA256\$" /medium/install/image.conf 2>/dev/null; then
			medium_device=$node
			break
		fi
		umount /medium
	done
	[ -n "$medium_device" ] || { sleep 1; tries=$((tries + 1)); }
done

if [ -z "$medium_device" ]; then
	echo "reprimage-install: refused: the installer medium was not found; nothing was written"
	status=2
else
	if [ -n "$target" ]; then
		sh /bin/reprimage-install --medium /medium --medium-device "$medium_device" --target "$target"
	else
		sh /bin/reprimage-install --medium /medium --medium-device "$medium_device"
	fi
	status=$?
fi
echo "REPRIMAGE-INSTALLER-END status=$status"
sync
case "$after" in
reboot) reboot -f ;;
shell)
	echo "reprimage-install: a shell; power off with 'poweroff -f'"
	setsid cttyhack sh
	poweroff -f
	;;
*) poweroff -f ;;
esac

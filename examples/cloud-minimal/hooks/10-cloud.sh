#!/bin/sh
# The image's identity, and a marker on the serial console once systemd reaches multi-user,
# after the first-boot growth of the root file system (the boot test waits for it and reads
# the root file system's size from the line before it).
set -e
echo cloud-minimal > /etc/hostname
# no interactive first-boot wizard on the console: it would wait for input forever
ln -sf /dev/null /etc/systemd/system/systemd-firstboot.service
mkdir -p /etc/systemd/system/multi-user.target.wants
cat > /etc/systemd/system/reprimage-cloud-marker.service <<'UNIT'
[Unit]
Description=Print the root file system's size and a marker on the serial console
After=multi-user.target systemd-growfs@-.service systemd-growfs-root.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "REPRIMAGE-ROOT-BYTES=$(df -B1 --output=size / | tail -n 1 | tr -d " ")" > /dev/ttyS0; echo REPRIMAGE-CLOUD-BOOTED > /dev/ttyS0'

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/reprimage-cloud-marker.service /etc/systemd/system/multi-user.target.wants/reprimage-cloud-marker.service

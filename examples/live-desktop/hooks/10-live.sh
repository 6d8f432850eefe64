#!/bin/sh
# The live system's identity, and a marker on the serial console once systemd reaches
# multi-user (the boot test waits for it).
set -e
echo live-desktop > /etc/hostname
# no root password is set here: chpasswd would write a random salt into /etc/shadow (found by
# reprimage diff of two builds); log in by adding one in your own hook if you need it
# no interactive first-boot wizard on the console (it waits for input forever): a live system
# has no first boot to configure
ln -sf /dev/null /etc/systemd/system/systemd-firstboot.service
mkdir -p /etc/systemd/system/multi-user.target.wants
cat > /etc/systemd/system/reprimage-live-marker.service <<'UNIT'
[Unit]
Description=Print a marker on the serial console
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo REPRIMAGE-LIVE-BOOTED > /dev/ttyS0'

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/reprimage-live-marker.service /etc/systemd/system/multi-user.target.wants/reprimage-live-marker.service

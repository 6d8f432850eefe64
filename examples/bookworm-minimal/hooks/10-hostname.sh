#!/bin/sh
# Runs inside the chroot (mmdebstrap customize hook), with SOURCE_DATE_EPOCH exported.
set -eu
echo bookworm-minimal > /etc/hostname

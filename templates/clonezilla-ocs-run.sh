#!/bin/sh
# netboot-ocs: one unattended Clonezilla job on a network-booted client, taken from the kernel
# command line the boot menu entry set, logged to the console; then the client powers off.
#
#   netboot.ocs=save|restore  netboot.ocs_image=NAME  [netboot.ocs_disk=sda]  [netboot.ocs_server=ADDR]
#
# The image repository is the server's directory, mounted with sshfs as the repository account,
# with the key made for it (/etc/netboot/ocs/id_ed25519) and the server's pinned host key
# (/etc/netboot/ocs/known_hosts, under the alias netboot-ocs-repository so the address the
# client uses does not matter). No password, no prompt: a missing or wrong key fails.
# The rest (account, options for ocs-sr) is in /etc/netboot/ocs/ocs.conf, written at image build.
set -u
# No globbing anywhere: the command line is split into words below, and none of them is a pattern.
set -f

CONF=${NETBOOT_OCS_CONF:-/etc/netboot/ocs/ocs.conf}
CMDLINE=${NETBOOT_OCS_CMDLINE:-/proc/cmdline}

say() { printf 'netboot-ocs: %s\n' "$*"; }
fail() {
    say "FAILED: $*"
    # The client stays up after a failure, for whoever is at its console to look (journalctl -u netboot-ocs).
    exit 1
}

[ -r "$CONF" ] || fail "no configuration at $CONF"
# shellcheck source=/dev/null # written at image build from templates/clonezilla-ocs.conf.hbs
. "$CONF"

action="" image="" disk=$OCS_DISK server=$OCS_SERVER
# shellcheck disable=SC2013 # the kernel command line is one line of words
for word in $(cat "$CMDLINE"); do
    case "$word" in
        netboot.ocs=*) action=${word#*=} ;;
        netboot.ocs_image=*) image=${word#*=} ;;
        netboot.ocs_disk=*) disk=${word#*=} ;;
        netboot.ocs_server=*) server=${word#*=} ;;
    esac
done

# The command line is data from the network: only plain names reach ocs-sr and sshfs.
case "$action" in save | restore) ;; *) fail "netboot.ocs=\"$action\" is neither save nor restore" ;; esac
printf '%s' "$image" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' || fail "netboot.ocs_image=\"$image\" is not an image name"
printf '%s' "$disk" | grep -Eq '^[a-z][a-z0-9]{1,15}$' || fail "netboot.ocs_disk=\"$disk\" is not a disk name like sda"
printf '%s' "$server" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9.:-]*$' || fail "server \"$server\" is not an address"

# The disk's driver may still be probing when this unit starts.
i=0
while [ ! -b "/dev/$disk" ] && [ $i -lt "${NETBOOT_OCS_DISK_WAIT:-30}" ]; do sleep 1; i=$((i + 1)); done
[ -b "/dev/$disk" ] || fail "/dev/$disk is not a block device on this client"

mkdir -p "$OCS_ROOT"
say "mounting $OCS_USER@$server:$OCS_REMOTE_DIR on $OCS_ROOT"
sshfs "$OCS_USER@$server:$OCS_REMOTE_DIR" "$OCS_ROOT" \
    -o "port=$OCS_PORT" \
    -o "IdentityFile=$OCS_KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o PasswordAuthentication=no \
    -o "UserKnownHostsFile=$OCS_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \
    -o "HostKeyAlias=$OCS_HOST_KEY_ALIAS" -o ServerAliveInterval=15 -o ServerAliveCountMax=4 ||
    fail "cannot mount the image repository $OCS_USER@$server:$OCS_REMOTE_DIR"
trap 'cd /; umount "$OCS_ROOT" 2>/dev/null || true' EXIT

status=0
if [ "$action" = save ]; then
    # Saved under a temporary name and renamed when complete: a failed save never replaces the
    # last good image of that name.
    partial=".$image.partial"
    rm -rf "${OCS_ROOT:?}/$partial"
    say "saving /dev/$disk to the server as $image"
    # shellcheck disable=SC2086 # the options are words by design
    ocs-sr $OCS_SAVE_OPTIONS savedisk "$partial" "$disk" || status=$?
    if [ $status -eq 0 ] && [ -f "$OCS_ROOT/$partial/disk" ]; then
        rm -rf "${OCS_ROOT:?}/.$image.previous"
        if [ -d "$OCS_ROOT/$image" ]; then mv "$OCS_ROOT/$image" "$OCS_ROOT/.$image.previous" || status=1; fi
        mv "$OCS_ROOT/$partial" "$OCS_ROOT/$image" || status=1
        rm -rf "${OCS_ROOT:?}/.$image.previous"
    else
        [ $status -ne 0 ] || status=1
    fi
else
    [ -f "$OCS_ROOT/$image/disk" ] || fail "the repository has no disk image named $image"
    say "restoring $image to /dev/$disk"
    # shellcheck disable=SC2086
    ocs-sr $OCS_RESTORE_OPTIONS restoredisk "$image" "$disk" || status=$?
fi
sync
[ $status -eq 0 ] || fail "ocs-sr $action of $image (/dev/$disk) exited $status; its log is /var/log/clonezilla.log"
say "finished: $action of $image (/dev/$disk) OK"
cd / && umount "$OCS_ROOT"
trap - EXIT
if [ "$OCS_POWEROFF" = yes ]; then
    say "powering off"
    systemctl --no-block poweroff
fi

#!/bin/sh
# Debian's account tools, which a busybox chroot lacks, as small fakes over the chroot's own
# /etc/passwd and /etc/shadow (getent passwd|shadow, useradd, usermod, userdel, chpasswd -e,
# loginctl terminate-user): what appserver-*.sh call. Installed as /bin/NAME links to this script
# by the test that needs them; every call but getent's is appended to /run/fake/calls.
set -eu
name=$(basename "$0")
mkdir -p /run/fake
touch /etc/passwd /etc/shadow /etc/group
[ "$name" = getent ] || printf '%s %s\n' "$name" "$*" >>/run/fake/calls
field() { grep -m 1 "^$2:" "/etc/$1"; }
drop() { grep -v "^$2:" "/etc/$1" >"/etc/$1.new" || true; mv "/etc/$1.new" "/etc/$1"; }
case $name in
  getent)
    db=$1
    if [ $# -eq 1 ]; then cat "/etc/$db"; exit 0; fi
    field "$db" "$2" || exit 2 ;;
  useradd)
    home='' shell=/bin/sh uid='' create=0
    while [ $# -gt 1 ]; do
      case $1 in
        --home-dir) home=$2; shift ;;
        --shell) shell=$2; shift ;;
        --uid) uid=$2; shift ;;
        --create-home) create=1 ;;
      esac
      shift
    done
    user=$1
    if field passwd "$user" >/dev/null; then echo "useradd: user '$user' already exists" >&2; exit 9; fi
    [ -n "$uid" ] || uid=$(awk -F: 'BEGIN { n = 1000 } $3 >= n && $3 < 60000 { n = $3 + 1 } END { print n }' /etc/passwd)
    if awk -F: -v u="$uid" '$3 == u { found = 1 } END { exit !found }' /etc/passwd; then echo "useradd: UID $uid is not unique" >&2; exit 4; fi
    echo "$user:x:$uid:$uid::$home:$shell" >>/etc/passwd
    echo "$user:!:19000:0:99999:7:::" >>/etc/shadow
    echo "$user:x:$uid:" >>/etc/group
    if [ "$create" = 1 ] && [ ! -d "$home" ]; then mkdir -p "$home"; chown "$uid:$uid" "$home"; fi ;;
  usermod)
    user=$(eval "echo \${$#}")
    entry=$(field passwd "$user") || { echo "usermod: user '$user' does not exist" >&2; exit 6; }
    while [ $# -gt 1 ]; do
      case $1 in
        --shell) entry=$(printf '%s' "$entry" | awk -F: -v OFS=: -v v="$2" '{ $7 = v; print }'); shift ;;
        --home) entry=$(printf '%s' "$entry" | awk -F: -v OFS=: -v v="$2" '{ $6 = v; print }'); shift ;;
        --lock | -L)
          s=$(field shadow "$user" | awk -F: -v OFS=: '{ if (substr($2, 1, 1) != "!") $2 = "!" $2; print }')
          drop shadow "$user"; echo "$s" >>/etc/shadow ;;
      esac
      shift
    done
    drop passwd "$user"; echo "$entry" >>/etc/passwd ;;
  userdel)
    remove=0
    while [ $# -gt 1 ]; do [ "$1" = --remove ] && remove=1; shift; done
    user=$1
    entry=$(field passwd "$user") || { echo "userdel: user '$user' does not exist" >&2; exit 6; }
    home=$(printf '%s' "$entry" | cut -d: -f6)
    drop passwd "$user"; drop shadow "$user"; drop group "$user"
    if [ "$remove" = 1 ]; then rm -rf "$home"; fi ;;
  chpasswd)
    while IFS=: read -r user hash; do
      s=$(field shadow "$user" | awk -F: -v OFS=: -v v="$hash" '{ $2 = v; print }')
      drop shadow "$user"; echo "$s" >>/etc/shadow
    done ;;
  loginctl) ;;
esac

#!/bin/sh
# The commands a Debian LTSP server has and a busybox chroot lacks, as small fakes with state under
# /run/fake (see chrootHost.ts). A test makes a command fail by creating /run/fake/fail-WHAT.
# Every call is appended to /run/fake/calls. Installed as /bin/NAME links; $0 says which it is.
name=$(basename "$0")
# util-linux flock (busybox-static here has none): the fake host is one process at a time, so
# taking the host-wide lock always succeeds at once; not logged as a call.
if [ "$name" = flock ]; then exit 0; fi
mkdir -p /run/fake/svc /run/fake/dpkg
printf '%s %s\n' "$name" "$*" >>/run/fake/calls
fail() { if [ -e "/run/fake/fail-$1" ]; then echo "$name: failed ($1, as the test asked)" >&2; exit 1; fi; }
case $name in
  systemctl)
    verb=$1; shift
    [ "${1:-}" = --quiet ] && shift
    unit=$1
    case $verb in
      restart)
        fail "restart-$unit"
        # A daemon refuses to start on a config the test marked broken.
        if [ "$unit" = dnsmasq ] && grep -qs BROKEN /etc/dnsmasq.d/*; then echo inactive >"/run/fake/svc/$unit.active"; exit 1; fi
        echo active >"/run/fake/svc/$unit.active" ;;
      stop) echo inactive >"/run/fake/svc/$unit.active" ;;
      enable) echo enabled >"/run/fake/svc/$unit.enabled" ;;
      is-active) s=$(cat "/run/fake/svc/$unit.active" 2>/dev/null || echo inactive); echo "$s"; [ "$s" = active ] ;;
      is-enabled) s=$(cat "/run/fake/svc/$unit.enabled" 2>/dev/null || echo disabled); echo "$s"; [ "$s" = enabled ] ;;
    esac ;;
  journalctl) echo "fake journal of $*" ;;
  dnsmasq)
    fail dnsmasq-test
    conf=${2#--conf-file=}
    # BROKEN: a test's bad line; the fault suite's invalid line (lib/engine/faults.ts), which the real dnsmasq refuses too.
    if grep -q -e BROKEN -e '^netboot-fault-suite: ' "$conf"; then echo "dnsmasq: bad option at line 1 of $conf" >&2; exit 1; fi
    echo "dnsmasq: syntax check OK." ;;
  apt-get)
    while [ $# -gt 0 ] && [ "$1" != install ] && [ "$1" != purge ]; do shift; done
    [ $# -gt 0 ] || exit 0
    verb=$1; shift
    fail "apt-$verb"
    for p in "$@"; do
      # Debian's maintainer scripts enable a package's service when it is installed.
      case $p in -*) ;; *) if [ "$verb" = install ]; then touch "/run/fake/dpkg/$p"; echo enabled >"/run/fake/svc/$p.enabled"; else rm -f "/run/fake/dpkg/$p"; fi ;; esac
    done ;;
  dpkg-query)
    shift 2
    for p in "$@"; do [ -e "/run/fake/dpkg/$p" ] && printf 'package\t%s\tinstalled\t1.0-fake\n' "$p"; done
    exit 0 ;;
  ltsp)
    applet=$1
    fail "ltsp-$applet"
    mkdir -p /srv/tftp/ltsp /srv/ltsp/images
    case $applet in
      ipxe)
        # The menu lists the images that exist, as `ltsp ipxe` does.
        { echo "#!ipxe"; for i in /srv/ltsp/images/*.img; do [ -e "$i" ] && echo "item $(basename "$i" .img)"; done; } >/srv/tftp/ltsp/ltsp.ipxe
        echo undionly >/srv/tftp/ltsp/undionly.kpxe; echo snponly >/srv/tftp/ltsp/snponly.efi ;;
      initrd) cat /etc/ltsp/ltsp.conf >/srv/tftp/ltsp/ltsp.img ;;
      nfs) mkdir -p /etc/exports.d; echo "/srv/ltsp *(ro)" >/etc/exports.d/ltsp-nfs.exports ;;
      image)
        src=$4
        if [ "$src" = / ]; then img=$(uname -m); else img=$(basename "$src"); fi
        img=${img%.img}
        if [ -f "/srv/ltsp/images/$img.img" ]; then mv "/srv/ltsp/images/$img.img" "/srv/ltsp/images/$img.img.old"; fi
        n=$(grep -c '^ltsp image' /run/fake/calls)
        echo "squashfs of $src, build $n" >"/srv/ltsp/images/$img.img"
        mkdir -p "/srv/tftp/ltsp/$img"; echo "kernel" >"/srv/tftp/ltsp/$img/vmlinuz"; echo "initrd" >"/srv/tftp/ltsp/$img/initrd.img" ;;
    esac ;;
esac

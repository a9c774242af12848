#!/bin/sh
# Managed by netboot: a key door's answer, run by sshd as the door's account for each request (the
# forced command of the one key in its authorized_keys). It hands this door's secret to a machine
# on the clients' LAN whose network card the allow list admits, and logs every answer. The key
# that asks is in the boot image, readable by anyone: it opens this door and nothing else, and the
# door looks at who is asking (the MAC behind the connection's address, from this host's own
# neighbour table) before it answers.
#
# allow (beside this file), one rule per line, the first match wins:
#   deny 52:54:00:12:34:56     never this machine (a terminal, a retired node)
#   allow 52:54:00:12:34:57    this machine
#   allow any                  every machine on the clients' LAN
# Exit 3 is a refusal (the client stops asking); 0 with the secret on stdout is an answer.
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin
dir=$(dirname -- "$0")
door=$(basename -- "$dir")
ip=${SSH_CONNECTION%% *}
mac=$(ip neigh show "$ip" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") { print tolower($(i + 1)); exit } }')
verdict=refused
if [ -n "$mac" ]; then
    rule=$(awk -v mac="$mac" '($1 == "allow" || $1 == "deny") && (tolower($2) == mac || $2 == "any") { print $1; exit }' "$dir/allow")
    [ "$rule" = allow ] && verdict=given
fi
logger -t netboot-door "$door: $verdict to ${mac:-an address with no MAC} at $ip"
if [ "$verdict" = given ]; then exec cat -- "$dir/secret"; fi
echo "netboot-door: $door refused: ${mac:-no MAC} at $ip may not have this key" >&2
exit 3

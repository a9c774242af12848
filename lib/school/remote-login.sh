#!/bin/sh
# remote-login.sh SERVER: the thin client's login screen for the application server the chooser
# picked (chooser.sh -- /bin/sh remote-login.sh {server}): asks for the user name, then ssh -X
# asks that user's password on SERVER, where the session runs (X clients draw here).
# The password goes only to a server whose host key the image pins (/etc/ssh/ssh_known_hosts):
# an unknown or changed key ends the login before anything is sent.
# shellcheck shell=sh
server=$1
user=
while [ -z "$user" ]; do
    printf '%s login: ' "$server"
    read -r user || exit 1
    case $user in *[!a-z0-9_-]*) user= ;; esac
done
exec ssh -X -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/etc/ssh/ssh_known_hosts -o UserKnownHostsFile=/dev/null -l "$user" "$server"

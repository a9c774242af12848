#!/bin/sh
# chooser: run on the thin client at login. Asks every application server's ldminfod how loaded
# it is, picks one by the site's policy, prints it on stdout and starts the session there.
#
#   chooser.sh [--] [COMMAND ARGS...]     e.g.  chooser.sh -- xfreerdp /v:{server}
#                                                chooser.sh -- ssh -X {server}
# "{server}" in an argument becomes the chosen server; without it the server is appended.
# Without a command it only prints the server.
#
# Settings (ltsp.conf parameters, from the file $BALANCE_ENV if it exists, else the environment):
#   BALANCE_POLICY     fixed | random | best-rated | weighted | sticky      (default weighted)
#   BALANCE_SERVERS    every application server, in the site's order
#   BALANCE_PREFER     fixed/sticky: this client's servers, best first (then weighted over all)
#   BALANCE_PORT       ldminfod's TCP port (9571); BALANCE_TIMEOUT seconds per server (2)
#   BALANCE_SESSIONS_PER_CORE  as the servers' ldminfod (10)
#   BALANCE_RANDOM     source of random bytes (/dev/urandom; tests give a file)
#
# The choice is lib/balance/choose.ts in shell integer arithmetic; a unit test runs both on the
# same answers and random numbers. Needs nc (netcat-openbsd) and od.
set -u

if [ -n "${BALANCE_ENV:-}" ] && [ -r "$BALANCE_ENV" ]; then
    # shellcheck disable=SC1090
    . "$BALANCE_ENV"
elif [ -r /run/boot-iac/balance.env ]; then
    # shellcheck disable=SC1091
    . /run/boot-iac/balance.env
fi

policy=${BALANCE_POLICY:-weighted}
servers=${BALANCE_SERVERS:-}
prefer=${BALANCE_PREFER:-}
port=${BALANCE_PORT:-9571}
timeout=${BALANCE_TIMEOUT:-2}
per_core=${BALANCE_SESSIONS_PER_CORE:-10}
random_source=${BALANCE_RANDOM:-/dev/urandom}

[ "${1:-}" = "--" ] && shift

die() {
    printf 'chooser: %s\n' "$1" >&2
    exit "${2:-1}"
}

case $policy in fixed | random | best-rated | weighted | sticky) ;; *) die "unknown BALANCE_POLICY \"$policy\"" 2 ;; esac
case $per_core in '' | *[!0-9]* | 0) die "BALANCE_SESSIONS_PER_CORE \"$per_core\" is not a positive number" 2 ;; esac
[ -n "$servers$prefer" ] || die "BALANCE_SERVERS is empty" 2

# Every server once: the site's list, then preferred ones it does not name.
all=
for s in $servers $prefer; do
    case " $all " in *" $s "*) ;; *) all="$all $s" ;; esac
done

# Ask all servers at once; one that does not answer within the timeout is left out.
tmp=$(mktemp -d) || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
i=0
for s in $all; do
    i=$((i + 1))
    nc -w "$timeout" "$s" "$port" </dev/null >"$tmp/$i" 2>/dev/null &
done
wait

# Candidates "server rating cores", one per line, in the site's order.
candidates=
i=0
for s in $all; do
    i=$((i + 1))
    rating=
    cores=
    while IFS=': ' read -r key value; do
        case $key in
            rating) rating=$value ;;
            cores) cores=$value ;;
        esac
    done <"$tmp/$i"
    case $rating in '' | *[!0-9]*) continue ;; esac
    case $cores in '' | *[!0-9]* | 0) continue ;; esac
    [ "$rating" -gt 1000 ] && rating=1000
    candidates="$candidates$s $rating $cores
"
done
[ -n "$candidates" ] || die "no application server answered (asked:$all, port $port)" 3

# Two 32-bit random numbers (the most any policy draws).
# shellcheck disable=SC2046
set -- $(od -An -tu4 -N8 "$random_source") "$@"
random1=$1
random2=$2
shift 2

# The rating after one more session (choose.ts ratingAfterLogin), inline below to save forks:
#   rating - 1000 / (cores x per_core)

# draw RANDOM WEIGHT-KIND: one candidate, probability weight / total; prints the server.
# WEIGHT-KIND: size (cores) or slack (cores x (after - lowest after + 1)).
draw() {
    lowest=
    while read -r s r c; do
        [ -n "$s" ] || continue
        a=$((r - 1000 / (c * per_core)))
        if [ -z "$lowest" ] || [ "$a" -lt "$lowest" ]; then lowest=$a; fi
    done <<CANDIDATES
$candidates
CANDIDATES
    total=0
    while read -r s r c; do
        [ -n "$s" ] || continue
        if [ "$2" = size ]; then w=$c; else w=$((c * (r - 1000 / (c * per_core) - lowest + 1))); fi
        total=$((total + w))
    done <<CANDIDATES
$candidates
CANDIDATES
    pick=$(($1 % total))
    last=
    while read -r s r c; do
        [ -n "$s" ] || continue
        last=$s
        if [ "$2" = size ]; then w=$c; else w=$((c * (r - 1000 / (c * per_core) - lowest + 1))); fi
        if [ "$pick" -lt "$w" ]; then
            echo "$s"
            return
        fi
        pick=$((pick - w))
    done <<CANDIDATES
$candidates
CANDIDATES
    echo "$last"
}

# field SERVER N: the Nth field (2 rating, 3 cores) of a candidate.
field() {
    while read -r s r c; do
        if [ "$s" = "$1" ]; then
            if [ "$2" = 2 ]; then echo "$r"; else echo "$c"; fi
            return
        fi
    done <<CANDIDATES
$candidates
CANDIDATES
}

answered() {
    case "
$candidates" in *"
$1 "*) return 0 ;; esac
    return 1
}

chosen=
case $policy in
    fixed | sticky)
        for s in $prefer; do
            if answered "$s"; then
                chosen=$s
                break
            fi
        done
        [ -n "$chosen" ] || chosen=$(draw "$random1" slack)
        ;;
    random)
        count=$(printf '%s' "$candidates" | grep -c .)
        chosen=$(printf '%s' "$candidates" | sed -n "$((random1 % count + 1))p" | cut -d' ' -f1)
        ;;
    weighted)
        chosen=$(draw "$random1" slack)
        ;;
    best-rated)
        first=$(draw "$random1" size)
        second=$(draw "$random2" size)
        r1=$(field "$first" 2)
        c1=$(field "$first" 3)
        r2=$(field "$second" 2)
        c2=$(field "$second" 3)
        chosen=$first
        if [ $((r2 - 1000 / (c2 * per_core))) -gt $((r1 - 1000 / (c1 * per_core))) ]; then chosen=$second; fi
        ;;
esac

printf '%s\n' "$chosen"
[ $# -gt 0 ] || exit 0

# The session command, "{server}" replaced (or the server appended).
replaced=0
count=$#
while [ "$count" -gt 0 ]; do
    arg=$1
    shift
    case $arg in
        *"{server}"*)
            arg="${arg%%"{server}"*}$chosen${arg#*"{server}"}"
            replaced=1
            ;;
    esac
    set -- "$@" "$arg"
    count=$((count - 1))
done
[ "$replaced" = 1 ] || set -- "$@" "$chosen"
rm -rf "$tmp"
trap - EXIT
exec "$@"

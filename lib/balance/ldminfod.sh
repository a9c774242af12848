#!/bin/sh
# ldminfod: tells a thin client how loaded this application server is. Read-only, no secrets:
# it prints figures from /proc and logind's session files and exits. Run by systemd per
# connection (ldminfod.socket, Accept=yes: stdin/stdout are the TCP connection).
#
# Answer, one "key: value" per line:
#   rating: 0-1000   free fraction (per mille) of the scarcest of load, sessions, memory
#   cores, load1, memtotal_kb, memfree_kb (MemAvailable), sessions, sessions_per_core
#
# The rating (lib/balance/rating.ts computes the same; a unit test compares them):
#   load_pm    = load1 x 1000 / cores
#   session_pm = sessions x 1000 / (cores x sessions_per_core)
#   memory_pm  = (MemTotal - MemAvailable) x 1000 / MemTotal
#   rating     = max(0, 1000 - max(load_pm, session_pm, memory_pm))
#
# The paths can be overridden (tests use fake files): LDMINFOD_LOADAVG, LDMINFOD_MEMINFO,
# LDMINFOD_CPUINFO, LDMINFOD_SESSIONS_DIR; LDMINFOD_SESSIONS_PER_CORE (default 10).
set -u

loadavg=${LDMINFOD_LOADAVG:-/proc/loadavg}
meminfo=${LDMINFOD_MEMINFO:-/proc/meminfo}
cpuinfo=${LDMINFOD_CPUINFO:-/proc/cpuinfo}
sessions_dir=${LDMINFOD_SESSIONS_DIR:-/run/systemd/sessions}
per_core=${LDMINFOD_SESSIONS_PER_CORE:-10}
case $per_core in '' | *[!0-9]* | 0) per_core=10 ;; esac

cores=$(grep -c '^processor' "$cpuinfo" 2>/dev/null) || cores=1
case $cores in '' | *[!0-9]* | 0) cores=1 ;; esac

# "0.52 0.58 0.59 1/123 4567" -> 52 (hundredths), without arithmetic on "08" (octal in sh).
load1=0.00
read -r load1 _rest <"$loadavg" 2>/dev/null || true
whole=${load1%%.*}
frac=${load1#"$whole"}
frac=${frac#.}00
tens=$(printf '%.1s' "$frac")
ones=$(printf '%.1s' "${frac#?}")
case $whole in '' | *[!0-9]*) whole=0 ;; esac
whole=$(printf '%s' "$whole" | sed 's/^0*//')
case $tens$ones in *[!0-9]*) tens=0 ones=0 ;; esac
load_centi=$(( ${whole:-0} * 100 + tens * 10 + ones ))

memtotal=0
memavail=0
while read -r key value _unit; do
    case $key in
        MemTotal:) memtotal=$value ;;
        MemAvailable:) memavail=$value ;;
    esac
done <"$meminfo"
case $memtotal in '' | *[!0-9]*) memtotal=0 ;; esac
case $memavail in '' | *[!0-9]*) memavail=0 ;; esac

# logind writes one file per session (and a .ref pipe); count the users' sessions, not greeters.
sessions=0
for f in "$sessions_dir"/*; do
    [ -f "$f" ] || continue
    case $f in *.ref) continue ;; esac
    if grep -qx 'CLASS=user' "$f" 2>/dev/null; then sessions=$((sessions + 1)); fi
done

load_pm=$((load_centi * 10 / cores))
session_pm=$((sessions * 1000 / (cores * per_core)))
if [ "$memtotal" -gt 0 ]; then memory_pm=$(((memtotal - memavail) * 1000 / memtotal)); else memory_pm=1000; fi
used=$load_pm
[ "$session_pm" -gt "$used" ] && used=$session_pm
[ "$memory_pm" -gt "$used" ] && used=$memory_pm
rating=$((1000 - used))
[ "$rating" -lt 0 ] && rating=0

printf 'rating: %s\ncores: %s\nload1: %s\nmemtotal_kb: %s\nmemfree_kb: %s\nsessions: %s\nsessions_per_core: %s\n' \
    "$rating" "$cores" "$load1" "$memtotal" "$memavail" "$sessions" "$per_core"

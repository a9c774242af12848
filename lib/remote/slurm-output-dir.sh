#!/bin/sh
# slurm-output-dir.sh DIR MARKER: the cluster's shared output directory: DIR/scenes (read by the
# nodes' jobs) and DIR/frames (written by them), owned by the rsync module's user (nobody).
# MARKER says netboot made it (the planner looks for it; delete leaves the data).
set -eu
dir=$1 marker=$2
mkdir -p -- "$dir/scenes" "$dir/frames"
chown nobody:nogroup -- "$dir/scenes" "$dir/frames"
chmod 0755 -- "$dir" "$dir/scenes" "$dir/frames"
printf 'made by netboot: the shared output directory of a Slurm cluster (frames/, scenes/)\n' >"$marker"

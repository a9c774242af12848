#!/bin/sh
# slurm-remove.sh: delete's half for the controller: stop and disable slurmctld and the rsync
# daemon (their config files are put back by the caller). The shared output directory stays: it is data.
systemctl disable --now slurmctld.service rsync.service 2>/dev/null || true

#!/bin/sh
# slurm-facts.sh LEASES: what refresh reports about the cluster: the server's short host name, the
# nodes the controller knows (scontrol show nodes, one line each) and the DHCP leases (dnsmasq's
# lease file LEASES), each part after a marker line. Read-only.
leases=$1
echo "== hostname"
hostname -s
echo "== nodes"
if command -v scontrol >/dev/null 2>&1 && systemctl is-active --quiet slurmctld; then
  scontrol show nodes --oneliner 2>&1 || true
fi
echo "== leases"
cat -- "$leases" 2>/dev/null || true

# Sourced by LTSP on the client at boot, from ltsp.conf:
#   POST_INIT_BALANCE=". /usr/share/boot-iac/balance-env.sh"
# LTSP evaluates POST_INIT_* in the shell where this client's ltsp.conf sections are set, but does
# not export them to the sessions started later; this keeps the BALANCE_* ones in a file that the
# login chooser (chooser.sh) reads. Sourced, so it never exits; the file holds no secrets.
# shellcheck shell=sh
balance_env_out=${CHOOSER_ENV_OUT:-/run/boot-iac/balance.env}
if mkdir -p "${balance_env_out%/*}"; then
    # `set` prints every variable quoted for the shell to read back.
    set | grep '^BALANCE_[A-Z0-9_]*=' >"$balance_env_out.tmp" && mv "$balance_env_out.tmp" "$balance_env_out"
    chmod 0644 "$balance_env_out" 2>/dev/null
fi
unset balance_env_out

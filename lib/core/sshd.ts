/** OpenSSH's server as the resources that give it a drop-in see it (Debian's unit name, its own check). */
export const SSH_SERVICE = "ssh";

/** sshd's own check of a candidate drop-in (host keys and /run/sshd are the server's). */
export const SSHD_CHECK = 'sshd -t -f "$1"';

/**
 * Paths on the managed hosts that more than one module names. LTSP 23 and Debian lay out the TFTP
 * tree; the boot file names are TFTP paths (relative to TFTP_ROOT), as DHCP hands them to clients.
 */

/** The TFTP root LTSP 23 serves (its TFTP_DIR). */
export const TFTP_ROOT = "/srv/tftp";
/** The iPXE binary `ltsp ipxe` installs for BIOS PXE firmware. */
export const BIOS_BOOT_FILE = "ltsp/undionly.kpxe";
/** The iPXE binary `ltsp ipxe` installs for UEFI firmware. */
export const UEFI_BOOT_FILE = "ltsp/snponly.efi";
/** The iPXE menu script, for clients already running iPXE. */
export const IPXE_SCRIPT = "ltsp/ltsp.ipxe";

/** The apt proxy setting a server gets when its spec names the site's apt cache. */
export const APT_PROXY_CONF = "/etc/apt/apt.conf.d/01netboot-proxy";

/**
 * Pinned nodes of a Slurm site (render or compute): a node the site knows by MAC is either a
 * worker (boots the cluster image, slurmd joins the queue) or a terminal (boots the same image,
 * slurmd masked). A terminal is marked as the seed's openMosix cluster marked slow nodes:
 * `MOSIX=N` in the node's own ltsp.conf section, which the image's LTSP init hook reads on the
 * client; `role: terminal` in config means the same and sets it. Unknown MACs need no entry at
 * all: they boot the menu's default entry (the cluster image) and join as workers. Pure.
 */

export const TERMINAL_ROLE = "terminal";
/** MOSIX values a node may have: "N" (the image's init hook masks slurmd: a terminal), "Y" (a worker, as when unset). */
export const MOSIX_VALUES = ["N", "Y"] as const;

export interface PinnedNodeInput {
    hostname: string;
    mac: string;
    image?: string;
    role?: string;
    ltspConf?: Record<string, string>;
    [field: string]: unknown;
}

export interface RoleProblem {
    index: number;
    reason: string;
}

/**
 * Each node completed for a NodeAssignment: the cluster image unless it names one, role
 * `terminal` with MOSIX=N or role `workerRole` (default) without it. A node whose role and
 * MOSIX disagree is a problem (which one did the administrator mean?).
 */
export function pinNodes<T extends PinnedNodeInput>(
    nodes: readonly T[],
    clusterImage: string,
    workerRole: string,
): { nodes: (T & { image: string; role: string; ltspConf: Record<string, string> })[]; problems: RoleProblem[] } {
    const problems: RoleProblem[] = [];
    const pinned = nodes.map((node, index) => {
        const ltspConf = { ...(node.ltspConf ?? {}) };
        // In a Slurm site the role and MOSIX decide what a node does: a value that is neither
        // would silently make it a worker (the hook compares MOSIX to "N" exactly).
        if (node.role && node.role !== TERMINAL_ROLE && node.role !== workerRole) {
            problems.push({
                index,
                reason: `role "${node.role}" is neither "${TERMINAL_ROLE}" (boots the image without slurmd) nor "${workerRole}" (joins the queue)`,
            });
        }
        if (ltspConf.MOSIX !== undefined && !(MOSIX_VALUES as readonly string[]).includes(ltspConf.MOSIX)) {
            problems.push({
                index,
                reason: `ltspConf MOSIX "${ltspConf.MOSIX}" is neither "N" (a terminal: slurmd masked) nor "Y" (a worker); the node image reads only these`,
            });
        }
        const slowByConf = ltspConf.MOSIX === "N";
        const slowByRole = node.role === TERMINAL_ROLE;
        if (node.role && !slowByRole && slowByConf) {
            problems.push({ index, reason: `role "${node.role}" with ltspConf MOSIX "N" (a terminal): say role "${TERMINAL_ROLE}", or drop MOSIX` });
        }
        if (slowByRole && ltspConf.MOSIX !== undefined && !slowByConf) {
            problems.push({ index, reason: `role "${TERMINAL_ROLE}" with ltspConf MOSIX "${ltspConf.MOSIX}": a terminal is MOSIX "N"` });
        }
        const terminal = slowByConf || slowByRole;
        if (terminal) ltspConf.MOSIX = "N";
        return { ...node, image: node.image ?? clusterImage, role: terminal ? TERMINAL_ROLE : node.role || workerRole, ltspConf };
    });
    return { nodes: pinned, problems };
}

/** The pinned nodes by role, for the stack's outputs. */
export function countRoles(nodes: readonly { role: string }[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const n of nodes) counts[n.role] = (counts[n.role] ?? 0) + 1;
    return counts;
}

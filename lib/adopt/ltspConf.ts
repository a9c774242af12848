import { LTSP_COMMAND_KEY, LTSP_SECRET_KEY } from "../core/fields";
import { NORMAL_MAC, type NodeSpec, nodeSchema, normalizeMac } from "../core/node";
import { DIRECTIVES, LTSP_CONF, type LtspConfSection, ltspConfLines, ltspConfSectionSchema } from "../ltsp/ltspConf";

/**
 * Reading an administrator's /etc/ltsp/ltsp.conf back into LtspServer inputs: the [server],
 * [common] and [clients] sections as typed fields (plus `extra` and `commands`), each [MAC]
 * section as a node. Whatever the inputs cannot say is listed, never dropped silently.
 */

/** One thing the stack config cannot express, with where it came from. */
export interface NotExpressed {
    /** e.g. "/etc/ltsp/ltsp.conf [clients] X_FOO" or "/etc/dnsmasq.d/ltsp-dnsmasq.conf line 27". */
    where: string;
    text: string;
    why: string;
}

export interface ParsedLtspConf {
    /** Section name (lower case as LTSP matches it; MACs as written, lower case) -> parameters in order. */
    sections: Map<string, Array<{ key: string; value: string; line: number }>>;
    /** Lines that are no KEY=value LTSP reads as a plain assignment. */
    unparsed: Array<{ line: number; text: string }>;
}

/**
 * The value of a shell assignment as ltsp.conf(5) writes them: bare, "double" or 'single' quoted.
 * undefined when it is anything else (several words, a command substitution, a quote left open):
 * LTSP would evaluate such a line as shell, which a typed field cannot reproduce.
 */
export function shellValue(raw: string): string | undefined {
    if (/^'[^']*'$/.test(raw)) return raw.slice(1, -1);
    if (/^"([^"\\`]|\\["\\$`])*"$/.test(raw)) {
        const inner = raw.slice(1, -1);
        if (/\$\(/.test(inner)) return undefined;
        return inner.replace(/\\(["\\$`])/g, "$1");
    }
    if (/^[^\s"'`\\;&|<>()]*$/.test(raw) && !/\$\(/.test(raw)) return raw;
    return undefined;
}

export function parseLtspConf(text: string): ParsedLtspConf {
    const sections: ParsedLtspConf["sections"] = new Map();
    const unparsed: ParsedLtspConf["unparsed"] = [];
    for (const [name, lines] of ltspConfLines(text)) {
        if (name !== "") sections.set(name, []);
        for (const { text: line, line: number } of lines) {
            const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
            const value = assignment ? shellValue(assignment[2]) : undefined;
            if (!assignment || value === undefined || name === "") unparsed.push({ line: number, text: line });
            else sections.get(name)!.push({ key: assignment[1], value, line: number });
        }
    }
    // In file order: a section may stand in several places.
    unparsed.sort((a, b) => a.line - b.line);
    return { sections, unparsed };
}

const TYPED = new Map(DIRECTIVES.map(([field, key]) => [key, field]));
const NUMBER_FIELDS = new Set(["menuTimeout"]);
const BOOLEAN_FIELDS = new Set(["imageToRam", "localSwap", "relogin", "debugShell", "debugLog", "nat"]);

/** One ltsp.conf parameter as a typed field, extra or command of a section; undefined when the schema refuses it. */
function sectionEntry(key: string, value: string): { section: LtspConfSection } | { why: string } {
    let section: LtspConfSection;
    const field = TYPED.get(key);
    if (field && NUMBER_FIELDS.has(field)) section = { [field]: /^-?\d+$/.test(value) ? Number(value) : value } as LtspConfSection;
    else if (field && BOOLEAN_FIELDS.has(field)) {
        if (value !== "0" && value !== "1") return { why: `${key} is 0 or 1 in the typed field` };
        section = { [field]: value === "1" } as LtspConfSection;
    } else if (field === "dnsServers") section = { dnsServers: value.split(/\s+/).filter(Boolean) };
    else if (field) section = { [field]: value } as LtspConfSection;
    else if (LTSP_COMMAND_KEY.test(key)) section = { commands: { [key]: value } };
    else section = { extra: { [key]: value } };
    const checked = ltspConfSectionSchema.safeParse(section);
    if (!checked.success) return { why: checked.error.issues.map((i) => `${[key, ...i.path.slice(1)].join(".")}: ${i.message}`).join("; ") };
    return { section: checked.data };
}

function merge(into: LtspConfSection, part: LtspConfSection): LtspConfSection {
    return {
        ...into,
        ...part,
        ...(part.extra ? { extra: { ...into.extra, ...part.extra } } : {}),
        ...(part.commands ? { commands: { ...into.commands, ...part.commands } } : {}),
    };
}

/** A node as the lab site's `netboot:nodes` holds it. */
export type AdoptedNode = Pick<NodeSpec, "hostname" | "mac" | "image" | "ip" | "kernelParameters" | "menuTimeout"> &
    Partial<Pick<NodeSpec, "ltspConf">>;

export interface AdoptedLtspConf {
    ltspConf: { server?: LtspConfSection; common?: LtspConfSection; clients?: LtspConfSection };
    nodes: AdoptedNode[];
    notExpressed: NotExpressed[];
}

/**
 * ltsp.conf -> `ltspConf` and `nodes`. A [MAC] section needs HOSTNAME; its image is its
 * DEFAULT_IMAGE, else the site-wide one, else the only image served (what LTSP's menu boots).
 */
export function adoptLtspConf(text: string, images: readonly string[], file = LTSP_CONF): AdoptedLtspConf {
    const parsed = parseLtspConf(text);
    const notExpressed: NotExpressed[] = parsed.unparsed.map((u) => ({
        where: `${file} line ${u.line}`,
        text: LTSP_SECRET_KEY.test(u.text.split("=")[0]) ? `${u.text.split("=")[0]}=[secret]` : u.text,
        why: "not a KEY=value assignment with a plain, \"double\" or 'single' quoted value (LTSP would run it as shell)",
    }));
    // Passwords never reach the stack file (nor this list's text): the administrator decides.
    for (const [name, params] of parsed.sections) {
        for (const { key, line } of params.filter((p) => LTSP_SECRET_KEY.test(p.key))) {
            notExpressed.push({
                where: `${file} line ${line} [${name}]`,
                text: `${key}=[secret]`,
                why: "holds passwords: not written to the stack file in plain text (and ltsp.img hands ltsp.conf to every client that boots)",
            });
        }
        parsed.sections.set(
            name,
            params.filter((p) => !LTSP_SECRET_KEY.test(p.key)),
        );
    }
    const ltspConf: AdoptedLtspConf["ltspConf"] = {};
    for (const name of ["server", "common", "clients"] as const) {
        const params = parsed.sections.get(name);
        if (!params) continue;
        let section: LtspConfSection = {};
        for (const { key, value, line } of params) {
            const entry = sectionEntry(key, value);
            if ("why" in entry) notExpressed.push({ where: `${file} line ${line} [${name}]`, text: `${key}=${value}`, why: entry.why });
            else section = merge(section, entry.section);
        }
        ltspConf[name] = section;
    }
    const siteImage = ltspConf.server?.defaultImage ?? ltspConf.common?.defaultImage ?? ltspConf.clients?.defaultImage;
    const nodes: AdoptedNode[] = [];
    for (const [name, params] of parsed.sections) {
        if (["server", "common", "clients"].includes(name)) continue;
        const mac = NORMAL_MAC.test(name) ? normalizeMac(name) : undefined;
        if (!mac) {
            notExpressed.push({
                where: `${file} [${name}]`,
                text: params.map((p) => `${p.key}=${p.value}`).join(" "),
                why: "a named section (INCLUDE target or host name pattern): the stack writes [server], [common], [clients] and one [MAC] per node",
            });
            continue;
        }
        const get = (key: string) => params.find((p) => p.key === key)?.value;
        const image = get("DEFAULT_IMAGE") ?? siteImage ?? (images.length === 1 ? images[0] : undefined);
        const hostname = get("HOSTNAME");
        const node: AdoptedNode = { hostname: hostname ?? "", mac, image: image ?? "" };
        const kernelParameters = get("KERNEL_PARAMETERS");
        if (kernelParameters !== undefined) node.kernelParameters = kernelParameters;
        const menuTimeout = get("MENU_TIMEOUT");
        if (menuTimeout !== undefined) node.menuTimeout = /^-?\d+$/.test(menuTimeout) ? Number(menuTimeout) : (menuTimeout as unknown as number);
        const rest = params.filter((p) => !["HOSTNAME", "DEFAULT_IMAGE", "KERNEL_PARAMETERS", "MENU_TIMEOUT"].includes(p.key));
        if (rest.length) node.ltspConf = Object.fromEntries(rest.map((p) => [p.key, p.value]));
        const checked = nodeSchema.safeParse({ nodeName: node.hostname, ...node });
        if (!hostname || !image || !checked.success) {
            const why = !hostname
                ? "a node needs HOSTNAME"
                : !image
                  ? "a node needs an image: DEFAULT_IMAGE here or in [server]/[common]/[clients], or exactly one image served"
                  : checked.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
            notExpressed.push({ where: `${file} [${name}]`, text: params.map((p) => `${p.key}=${p.value}`).join(" "), why });
            continue;
        }
        nodes.push(node);
    }
    return { ltspConf, nodes, notExpressed };
}

import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { BALANCE_PARAMETER, CLIENT_SCRIPT_DIR } from "../lib/balance/ltspConf";
import { nodeSchema, normalizeMac } from "../lib/core/node";
import { CLIENT_PACKAGES, clientImageFiles, KNOWN_HOSTS, knownHostsFile, type SchoolAppServer, schoolBalanceFailures } from "../lib/school/site";
import { AppServer, type AppServerArgs } from "../resources/appServer";
import { ChrootImage, type ChrootImageArgs } from "../resources/chrootImage";
import { LtspServer, type LtspServerArgs } from "../resources/ltspServer";
import { NodeAssignment, type NodeAssignmentArgs } from "../resources/nodeAssignment";
import { SessionBalance } from "../resources/sessionBalance";
import { configError, connectionFrom, passedOn, readInventoryFile, readSiteConfig, serverConfigSchema, siteNodes } from "./config";

/**
 * The school site (issue 8): an LTSP server, one thin-client image whose login runs the session
 * chooser, application servers (AppServer: sshd with X11 forwarding, the pupils' accounts,
 * ldminfod), and the session balancing of lib/balance: validated when the program runs (so a
 * bad policy, weight, fixed server or a server list too small fails the preview, naming the
 * key), per-client values written into each client's ltsp.conf section (SessionBalance keeps
 * sticky clients on their servers across runs; a preview shows exactly the clients that move).
 *
 * Config (Pulumi.school.yaml): server, privateKey (secret, unless server.privateKeyFile), aptProxy,
 * lan, dhcp, boot, ltspConf, extraPackages, image, session, appServers, users, userPasswords
 * (secret: user -> password), balance, nodes and/or inventoryFile (CSV or YAML).
 */

/** A field the stack reads itself is typed; the resources validate the rest, naming the field. */
const imageConfig = z
    .object({
        name: z.string().default("thin"),
        compression: z.unknown().optional(),
        /** The debootstrap source (ChrootImage's); the school adds the chooser's packages and files. */
        debootstrap: z
            .object({
                packages: z.array(z.string()).default([]),
                extraFiles: z.record(z.string(), z.string()).default({}),
                postInstall: z.array(z.string()).default([]),
            })
            .catchall(z.unknown())
            .default({ packages: [], extraFiles: {}, postInstall: [] }),
    })
    .strict()
    .default({ name: "thin", debootstrap: { packages: [], extraFiles: {}, postInstall: [] } });

const sessionConfig = z
    .object({
        command: z.array(z.string().min(1)).min(1, "must name the session command").default(["ssh", "-X", "{server}"]),
        autologin: z
            .object({
                user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "is not a valid Unix user name"),
                console: z
                    .string()
                    .regex(/^tty[A-Za-z0-9]+$/, "is not a console like ttyS0 or tty1")
                    .default("ttyS0"),
            })
            .strict()
            .optional(),
    })
    .strict()
    .default({ command: ["ssh", "-X", "{server}"] });

const appServerConfig = z
    .object({
        /** The name the balancing hashes (stable: change the address, not the name). */
        name: z.string(),
        /** Its address on the clients' LAN: where choosers reach ldminfod and open sessions. */
        address: z.string(),
        cores: z.number(),
        memoryMb: z.number().optional(),
        weight: z.number().optional(),
        maxSessions: z.number().optional(),
        /** How the stack reaches it over SSH. */
        server: serverConfigSchema,
        extraPackages: z.unknown().optional(),
    })
    .strict();

const nodeConfig = z
    .object(
        Object.fromEntries(
            Object.keys(nodeSchema.shape)
                .filter((k) => k !== "nodeName")
                .map((k) => [k, z.unknown().optional()]),
        ),
    )
    .extend({ hostname: z.string(), mac: z.string(), image: z.string().optional() })
    .strict();

export const schoolConfig = z
    .object({
        site: z.literal("school"),
        server: serverConfigSchema,
        aptProxy: z.string().optional(),
        lan: z.unknown(),
        dhcp: z.unknown(),
        ltspConf: z
            .object({ server: z.unknown().optional(), common: z.unknown().optional(), clients: z.record(z.string(), z.unknown()).optional() })
            .strict()
            .default({}),
        extraPackages: z.unknown().optional(),
        boot: z.unknown().optional(),
        image: imageConfig,
        session: sessionConfig,
        appServers: z.array(appServerConfig).min(1, "must list at least one application server"),
        /** The pupils' accounts, the same on every application server (passwords: netboot:userPasswords). */
        users: z.array(z.record(z.string(), z.unknown())).default([]),
        /** netboot:balance without servers (they are netboot:appServers). */
        balance: passedOn({ servers: "netboot:appServers" }),
        nodes: z.array(nodeConfig).default([]),
        inventoryFile: z.string().min(1).optional(),
    })
    .strict();

/**
 * ltsp.conf parameters of the session balancing (BALANCE_*, POST_INIT_BALANCE) that config sets
 * itself: the stack writes them into [clients] and each client's section, over what config says.
 */
export function balanceParameterFailures(
    ltspConf: { common?: unknown; clients?: Record<string, unknown> },
    clients: readonly { place: string; node: object }[],
): string[] {
    const keysOf = (value: unknown) => (value && typeof value === "object" ? Object.keys(value) : []);
    const taken = (keys: string[]) => keys.filter((key) => BALANCE_PARAMETER.test(key));
    const message = "is set by the session balancing (netboot:balance); remove it here";
    const common = ltspConf.common as { extra?: unknown; commands?: unknown } | undefined;
    return [
        ...(["common", "clients"] as const).flatMap((section) =>
            (["extra", "commands"] as const).flatMap((field) =>
                taken(keysOf((section === "common" ? common : ltspConf.clients)?.[field])).map(
                    (key) => `netboot:ltspConf.${section}.${field}.${key}: ${message}`,
                ),
            ),
        ),
        ...clients.flatMap(({ place, node }) =>
            taken(keysOf((node as { ltspConf?: unknown }).ltspConf)).map((key) => `${place}: ltspConf.${key} ${message}`),
        ),
    ];
}

export function schoolSite(config: pulumi.Config) {
    const site = readSiteConfig(schoolConfig, ["privateKey", "userPasswords"]);
    const connection = connectionFrom(site.server, config);
    const aptProxy = site.aptProxy;
    const imageName = site.image.name;

    // The clients: inline, then the inventory file's; every one boots the school's image unless it names it.
    const inventory = site.inventoryFile ? readInventoryFile(site.inventoryFile, [imageName]) : undefined;
    const placed = siteNodes(
        site.nodes.map((n) => ({ image: imageName, ...n })),
        inventory,
    );
    const balanceParameters = balanceParameterFailures(site.ltspConf, placed);
    if (balanceParameters.length) throw configError(`stack config: ${balanceParameters.join("; ")}`);
    const clients = placed.map(({ node }) => node) as unknown as Array<Record<string, unknown> & { mac: string; hostname: string }>;
    clients.forEach((node, i) => {
        if (node.image !== imageName && i < site.nodes.length) {
            throw configError(`netboot:nodes[${i}].image: "${String(node.image)}" (node ${node.hostname}) is not the school's image "${imageName}"`);
        }
    });

    // The balance config is checked here, on config values alone, so a preview fails on it whatever else is unknown.
    const appServers: SchoolAppServer[] = site.appServers.map(({ server: _ssh, extraPackages: _pkgs, ...s }) => s);
    const failures = schoolBalanceFailures(
        site.balance as never,
        appServers,
        clients.map((c) => c.mac),
    );
    if (failures.length) throw configError(`stack config: ${failures.join("; ")}`);

    const balance = new SessionBalance("balance", {
        balance: { ...(site.balance as object), servers: appServers } as never,
        clients: clients.map((c) => c.mac),
    });
    // What a preview shows besides the changed sections: the moving clients, one line each.
    balance.moved.apply((moved) => {
        if (moved?.length)
            void pulumi.log.info(`balance: ${moved.length} client(s) move: ${moved.map((m) => `${m.mac} ${m.from} -> ${m.to}`).join(", ")}`);
    });

    const userPasswords = config.getSecretObject<Record<string, string>>("userPasswords");
    // An application server's LAN: its address there, with the LAN's prefix (netboot:lan.address).
    const lanPrefix = String((site.lan as { address?: unknown } | undefined)?.address ?? "").split("/")[1];
    const servers = site.appServers.map(
        (server, i) =>
            new AppServer(server.name, {
                connection: connectionFrom(server.server, config, `netboot:appServers[${i}].server`),
                lan: { address: `${server.address}/${lanPrefix}` },
                aptProxy,
                users: site.users as AppServerArgs["users"],
                passwords: userPasswords ?? {},
                ldminfod: {
                    port: (site.balance.port as number | undefined) ?? undefined,
                    sessionsPerCore: (site.balance.sessionsPerCore as number | undefined) ?? undefined,
                },
                extraPackages: server.extraPackages as AppServerArgs["extraPackages"],
            }),
    );

    // The thin-client image: the chooser and its session, and the packages they need.
    const imageResource = `${pulumi.getProject()}/${pulumi.getStack()}: school image ${imageName}`;
    const debootstrap = site.image.debootstrap;
    const extras = clientImageFiles(site.session, imageResource);
    const image = new ChrootImage(imageName, {
        connection,
        aptProxy,
        name: imageName,
        compression: site.image.compression as ChrootImageArgs["compression"],
        source: {
            debootstrap: {
                architecture: "amd64",
                ...debootstrap,
                packages: [...new Set([...CLIENT_PACKAGES, ...debootstrap.packages])],
                extraFiles: {
                    ...extras.files,
                    // The servers' host keys, as each reported them: a client trusts these only (a new key rebuilds the image).
                    [KNOWN_HOSTS]: pulumi.all(servers.map((server) => server.hostKeys)).apply((keys) =>
                        knownHostsFile(
                            site.appServers.map((s, i) => ({ address: s.address, hostKeys: keys[i] ?? [] })),
                            imageResource,
                        ),
                    ),
                    ...debootstrap.extraFiles,
                },
                postInstall: [...extras.postInstall, ...debootstrap.postInstall],
            },
        } as ChrootImageArgs["source"],
    });

    const nodes = clients.map(({ ltspConf, ...node }) => {
        const mac = node.mac;
        const own = (ltspConf ?? {}) as Record<string, string>;
        return new NodeAssignment(node.hostname, {
            ...(node as unknown as NodeAssignmentArgs),
            // This client's BALANCE_* values: a moved client's section (and this node) changes, nobody else's.
            ltspConf: balance.perClient.apply((perClient) => ({ ...own, ...(perClient?.[normalizeMac(mac) ?? mac] ?? {}) })),
        });
    });

    const ltspConf = site.ltspConf as { server?: unknown; common?: unknown; clients?: Record<string, unknown> };
    const ltsp = new LtspServer(
        "ltsp-server",
        {
            connection,
            aptProxy,
            extraPackages: site.extraPackages as LtspServerArgs["extraPackages"],
            lan: site.lan as LtspServerArgs["lan"],
            dhcp: site.dhcp as LtspServerArgs["dhcp"],
            boot: site.boot as LtspServerArgs["boot"],
            // The [clients] section carries the site's BALANCE_* values and the boot hook that hands them to the chooser.
            ltspConf: balance.clientsSection.apply((section) => ({
                ...ltspConf,
                clients: {
                    ...(ltspConf.clients ?? {}),
                    extra: { ...((ltspConf.clients?.extra as Record<string, string>) ?? {}), ...(section?.extra ?? {}) },
                    commands: { ...((ltspConf.clients?.commands as Record<string, string>) ?? {}), ...(section?.commands ?? {}) },
                },
            })) as LtspServerArgs["ltspConf"],
            images: [imageName],
            nodes: nodes.map((node) => node.spec),
        },
        { dependsOn: [image] },
    );

    return {
        server: { address: ltsp.address, services: ltsp.services, bootFiles: ltsp.bootFiles },
        image: { name: imageName, sha256: image.sha256, size: image.size },
        chooser: `${CLIENT_SCRIPT_DIR}/chooser.sh`,
        appServers: Object.fromEntries(
            site.appServers.map((s, i) => [s.name, { address: s.address, services: servers[i].services, users: servers[i].presentUsers }]),
        ),
        balance: { policy: site.balance.policy, plan: balance.plan, moved: balance.moved },
        clients: clients.length,
    };
}

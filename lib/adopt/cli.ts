import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fingerprintFromKnownHosts } from "../core/hostKey";
import { LTSP_CONF } from "../ltsp/ltspConf";
import { remoteScript } from "../remote/scripts";
import { RemoteHost } from "../ssh/remoteHost";
import { adoptServer, type ServerFacts, stackConfigYaml } from "./adopt";

const USAGE = `usage:
  adopt --host ADDRESS [--port 22] [--user root] [--sudo] --private-key-file FILE
        (--known-hosts-file FILE | --host-key-fingerprint SHA256:...) [--lan-interface IF] [--out Pulumi.STACK.yaml]
      Reads a running LTSP server's /etc/ltsp/ltsp.conf, /etc/dnsmasq.d/ltsp-dnsmasq.conf, its addresses,
      /srv/ltsp/images/*.img and apt proxy over SSH (read-only) and writes a lab-site stack config that
      describes them (stdout unless --out). What the config cannot express is listed, on stderr and as
      comments at the top of the file.
`;

/** The facts script's sections ("== name" lines) -> their lines. */
function sections(text: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    let current = "";
    for (const line of text.split("\n")) {
        const header = /^== (\S+)$/.exec(line);
        if (header) {
            current = header[1];
            out[current] = [];
        } else if (current && line) out[current].push(line);
    }
    return out;
}

async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({
        args: argv,
        options: {
            host: { type: "string" },
            port: { type: "string" },
            user: { type: "string" },
            sudo: { type: "boolean" },
            "private-key-file": { type: "string" },
            "known-hosts-file": { type: "string" },
            "host-key-fingerprint": { type: "string" },
            "lan-interface": { type: "string" },
            out: { type: "string" },
            help: { type: "boolean", short: "h" },
        },
    });
    if (values.help) {
        process.stdout.write(USAGE);
        return 0;
    }
    const host = values.host;
    const keyFile = values["private-key-file"];
    if (!host || !keyFile) throw new Error("--host and --private-key-file are required");
    const port = values.port ? Number(values.port) : 22;
    const fingerprint =
        values["host-key-fingerprint"] ??
        (values["known-hosts-file"] ? fingerprintFromKnownHosts(readFileSync(values["known-hosts-file"], "utf8"), host, port) : undefined);
    if (!fingerprint) throw new Error(`no pinned host key for ${host}: give --known-hosts-file (with an entry for it) or --host-key-fingerprint`);
    const user = values.user ?? "root";
    const target = { host, port, user, sudo: values.sudo ?? false, privateKey: readFileSync(keyFile, "utf8"), hostKeyFingerprint: fingerprint };
    const remote = await RemoteHost.connect(target);
    try {
        const facts = sections(await remote.run("read addresses, images and apt proxy", remoteScript("adopt-facts")));
        const read = async (path: string) => (await remote.readFile(path))?.toString("utf8");
        const serverFacts: ServerFacts = {
            ltspConf: await read(LTSP_CONF),
            dnsmasq: await read("/etc/dnsmasq.d/ltsp-dnsmasq.conf"),
            ipAddr: (facts.ip ?? []).join("\n"),
            images: facts.images ?? [],
            aptProxy: (facts["apt-proxy"] ?? [])[0] ?? "",
        };
        const adoption = adoptServer(
            serverFacts,
            {
                host,
                ...(port !== 22 ? { port } : {}),
                user,
                ...(values.sudo ? { sudo: true } : {}),
                privateKeyFile: keyFile,
                ...(values["known-hosts-file"] ? { knownHostsFile: values["known-hosts-file"] } : { hostKeyFingerprint: fingerprint }),
            },
            { lanInterface: values["lan-interface"] },
        );
        const yaml = stackConfigYaml(adoption, `${user}@${host}`);
        if (values.out) writeFileSync(values.out, yaml);
        else process.stdout.write(yaml);
        const nodes = (adoption.config.nodes as unknown[] | undefined)?.length ?? 0;
        process.stderr.write(
            `adopt: ${user}@${host}: ${nodes} nodes, ${(adoption.config.servedImages as unknown[] | undefined)?.length ?? 0} images, dhcp.mode ${(adoption.config.dhcp as { mode: string }).mode}` +
                `${values.out ? `, written to ${values.out}` : ""}\n`,
        );
        for (const n of adoption.notExpressed) process.stderr.write(`adopt: not expressed: ${n.where}: ${n.text}\n    ${n.why}\n`);
        return 0;
    } finally {
        remote.close();
    }
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
        process.stderr.write(`adopt: ${error.message}\n${USAGE}`);
        process.exit(2);
    },
);

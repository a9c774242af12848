import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { validateScope } from "../../lib/dhcp/scopeSpec";
import type { WindowsOwned } from "../../lib/dhcp/windows/actions";
import { parseWindowsState, type WindowsState } from "../../lib/dhcp/windows/state";
import { TEST_KEY, TEST_PIN } from "./helpers";

export const WINDOWS_FIXTURES = join(__dirname, "..", "fixtures", "windows");

/** The scope every Windows transcript in test/fixtures/windows describes (in-sync.state.json is this scope on a server). */
export function windowsScope(overrides: Record<string, unknown> = {}) {
    const result = validateScope({
        kind: "windows",
        connection: { host: "10.20.0.2", user: "administrator", sudo: true, privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN },
        name: "compute",
        subnet: "10.20.0.0/24",
        rangeStart: "10.20.0.100",
        rangeEnd: "10.20.0.150",
        router: "10.20.0.1",
        leaseSeconds: 86400,
        boot: { nextServer: "10.20.0.5", rootPath: "10.20.0.5:/ltsp/i386" },
        nodes: [{ nodeName: "node01", mac: "52:54:00:20:00:01", hostname: "node01", image: "mosix", ip: "10.20.0.11" }],
        windows: { scopeId: "10.20.0.0" },
        ...overrides,
    });
    if (!result.ok) throw new Error(result.failures.map((f) => f.reason).join("\n"));
    return result.spec;
}

export function windowsState(name: string): WindowsState {
    return parseWindowsState(readFileSync(join(WINDOWS_FIXTURES, `${name}.state.json`), "utf8"));
}

/**
 * The record of a resource that created everything `state` holds: the scope, its scope-level options,
 * policies and reservations, and the server's classes. The drift transcripts describe such a scope.
 */
export function ownsAll(state: WindowsState): WindowsOwned {
    return {
        scope: "created",
        scopeOptions: [...new Set(state.options.filter((o) => o.PolicyName === null).map((o) => o.OptionId))],
        policies: state.policies.map((p) => p.Name),
        reservations: state.reservations.map((r) => r.ClientId.toLowerCase()),
        classes: state.classes.map((c) => c.Name),
        optionDefinitions: [],
    };
}

/**
 * Compares `text` with a golden file. The test never passes on a file it wrote: a missing golden
 * file fails, and UPDATE_GOLDEN=1 rewrites it and fails too, so the new file is read and reviewed
 * (against the cmdlet documentation) before a second run passes.
 */
export function expectGolden(name: string, text: string) {
    const path = join(WINDOWS_FIXTURES, name);
    if (process.env.UPDATE_GOLDEN) {
        writeFileSync(path, text);
        expect.fail(`${name} rewritten (UPDATE_GOLDEN): review the diff, then run again without UPDATE_GOLDEN`);
    }
    if (!existsSync(path)) expect.fail(`golden file ${name} is missing (test/fixtures/windows); UPDATE_GOLDEN=1 writes it for review`);
    expect(text).toBe(readFileSync(path, "utf8"));
}

/**
 * A scope with `count` reserved nodes in 10.30.0.0/20 (addresses from 10.30.0.10 up, MACs
 * 52:54:00:30:xx:xx), the dynamic range at the top of the subnet: the shape of a big compute hall.
 */
export function bigWindowsScope(count: number) {
    const nodes = Array.from({ length: count }, (_, i) => {
        const address = 10 + i;
        const ip = `10.30.${Math.floor(address / 256)}.${address % 256}`;
        const mac = `52:54:00:30:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
        const name = `node${String(i + 1).padStart(4, "0")}`;
        return { nodeName: name, mac, hostname: name, image: "mosix", ip };
    });
    return windowsScope({
        subnet: "10.30.0.0/20",
        rangeStart: "10.30.15.1",
        rangeEnd: "10.30.15.200",
        router: "10.30.0.1",
        boot: { nextServer: "10.30.0.5" },
        nodes,
        windows: { scopeId: "10.30.0.0" },
    });
}

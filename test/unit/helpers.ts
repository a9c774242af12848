import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A key made for these tests only (test/fixtures): it opens nothing. */
export const TEST_KEY = readFileSync(join(__dirname, "..", "fixtures", "unit-test-key"), "utf8");
export const TEST_PIN = "SHA256:rigszrBQLPzch2qZFv4eTD1n1F3JI/d7wIwewr+Mjrk";

export function validServerInputs(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        connection: { host: "10.213.0.2", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN },
        aptProxy: "http://10.213.0.1:3142",
        lan: { interface: "pxebr0", address: "10.213.1.1/24" },
        dhcp: { mode: "full", rangeStart: "10.213.1.100", rangeEnd: "10.213.1.199" },
        ...overrides,
    };
}

/** A dnsmasq scope on the lab LAN, as the tests start from (fields overridden as given). */
export function validScopeInputs(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        kind: "dnsmasq",
        connection: { host: "10.213.0.2", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN },
        name: "lab",
        interface: "pxebr0",
        subnet: "10.213.1.0/24",
        rangeStart: "10.213.1.100",
        rangeEnd: "10.213.1.199",
        boot: { nextServer: "10.213.1.1" },
        ...overrides,
    };
}

/** An application server as the AppServer tests reach it, and its address on the thin clients' LAN. */
export const APP_SERVER_CONNECTION = { host: "10.213.0.6", privateKey: TEST_KEY, hostKeyFingerprint: TEST_PIN };
export const APP_SERVER_LAN = { address: "10.213.1.11/24" };

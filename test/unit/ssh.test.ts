import { describe, expect, it } from "vitest";
import { fingerprintFromKnownHosts, privateKeyProblem, sha256Fingerprint } from "../../lib/core/hostKey";
import { shq } from "../../lib/ssh/shell";
import { TEST_KEY } from "./helpers";

describe("host keys", () => {
    const blob = Buffer.from("AAAAC3NzaC1lZDI1NTE5AAAAIFOtPZl7sDMfOT9FhwKG3AF2wLqPxJHoiVEkcxn1XMAF", "base64");
    const known = `# comment\n10.0.0.9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOtPZl7sDMfOT9FhwKG3AF2wLqPxJHoiVEkcxn1XMAF\n[10.0.0.9]:2222 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ\n`;

    it("fingerprints like ssh-keygen -lf", () => {
        expect(sha256Fingerprint(blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    });

    it("finds a host in known_hosts, port-aware", () => {
        expect(fingerprintFromKnownHosts(known, "10.0.0.9")).toBe(sha256Fingerprint(blob));
        expect(fingerprintFromKnownHosts(known, "10.0.0.10")).toBeUndefined();
        expect(fingerprintFromKnownHosts(known, "10.0.0.9", 2222)).not.toBe(sha256Fingerprint(blob));
    });

    it("recognises a usable private key", () => {
        expect(privateKeyProblem(TEST_KEY)).toBeUndefined();
        expect(privateKeyProblem("nope")).toMatch(/does not parse/);
    });
});

describe("shell quoting", () => {
    it("keeps every byte literal", () => {
        expect(shq("a b")).toBe("'a b'");
        expect(shq("it's $(x)")).toBe(`'it'\\''s $(x)'`);
    });
});

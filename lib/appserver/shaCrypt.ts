import { createHash, randomBytes } from "node:crypto";

/**
 * SHA-512 crypt ("$6$salt$hash", Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512",
 * https://www.akkadia.org/drepper/SHA-crypt.txt): the password hash glibc's and libxcrypt's
 * crypt(3), chpasswd -e and pam_unix accept on Debian. The application server's users get
 * their password as this hash; the plain password never leaves the Pulumi program.
 */

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DEFAULT_ROUNDS = 5000;

function sha512(...parts: Buffer[]): Buffer {
    const hash = createHash("sha512");
    for (const part of parts) hash.update(part);
    return hash.digest();
}

/** `length` bytes of `block` repeated. */
function repeated(block: Buffer, length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
    return out;
}

function b64From24(b2: number, b1: number, b0: number, n: number): string {
    let w = (b2 << 16) | (b1 << 8) | b0;
    let out = "";
    for (let i = 0; i < n; i++) {
        out += ITOA64[w & 0x3f];
        w >>= 6;
    }
    return out;
}

/** The hash of `password` with `salt` (up to 16 characters of it, as crypt uses). */
export function sha512Crypt(password: string, salt: string, rounds = DEFAULT_ROUNDS): string {
    const p = Buffer.from(password, "utf8");
    const s = Buffer.from(salt.slice(0, 16), "utf8");
    const b = sha512(p, s, p);
    const a = createHash("sha512").update(p).update(s).update(repeated(b, p.length));
    for (let i = p.length; i > 0; i >>= 1) a.update(i & 1 ? b : p);
    let c = a.digest();
    const pBytes = repeated(sha512(...Array<Buffer>(p.length).fill(p)), p.length);
    const sBytes = repeated(sha512(...Array<Buffer>(16 + c[0]).fill(s)), s.length);
    for (let r = 0; r < rounds; r++) {
        const h = createHash("sha512");
        h.update(r & 1 ? pBytes : c);
        if (r % 3) h.update(sBytes);
        if (r % 7) h.update(pBytes);
        h.update(r & 1 ? c : pBytes);
        c = h.digest();
    }
    let encoded = "";
    // The digest's bytes in the order the algorithm prescribes: (i, i+21, i+42), rotated by i mod 3.
    for (let i = 0; i < 21; i++) {
        const t = [i, i + 21, i + 42];
        const [x, y, z] = i % 3 === 0 ? t : i % 3 === 1 ? [t[1], t[2], t[0]] : [t[2], t[0], t[1]];
        encoded += b64From24(c[x], c[y], c[z], 4);
    }
    encoded += b64From24(0, 0, c[63], 2);
    const roundsPart = rounds === DEFAULT_ROUNDS ? "" : `rounds=${rounds}$`;
    return `$6$${roundsPart}${salt.slice(0, 16)}$${encoded}`;
}

/** A fresh 16-character salt from the crypt alphabet. */
export function newSalt(): string {
    return [...randomBytes(16)].map((byte) => ITOA64[byte & 0x3f]).join("");
}

/** Whether `hash` ("$6$[rounds=N$]salt$...") is the hash of `password`. */
export function sha512CryptMatches(password: string, hash: string): boolean {
    const m = /^\$6\$(?:rounds=(\d+)\$)?([^$]{0,16})\$[./0-9A-Za-z]{86}$/.exec(hash);
    if (!m) return false;
    return sha512Crypt(password, m[2], m[1] ? Number(m[1]) : DEFAULT_ROUNDS) === hash;
}

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { endianness, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Candidate, choose, choosePreferred, seededRandom } from "../../lib/balance/choose";
import { loadToCenti, parseAnswer, rating } from "../../lib/balance/rating";

const DIR = join(__dirname, "..", "..", "lib", "balance");
const work = mkdtempSync(join(tmpdir(), "balance-test-"));

/** A fake nc on PATH: `nc -w T HOST PORT` prints $FAKE_ANSWERS/HOST, or nothing (a server that is down). */
const fakeBin = join(work, "bin");
mkdirSync(fakeBin);
afterAll(() => rmSync(work, { recursive: true, force: true }));
writeFileSync(join(fakeBin, "nc"), '#!/bin/sh\n[ -f "$FAKE_ANSWERS/$3" ] && cat "$FAKE_ANSWERS/$3"\nexit 0\n', { mode: 0o755 });
const emptyEnv = join(work, "empty.env");
writeFileSync(emptyEnv, "");

let scenario = 0;

interface Server {
    address: string;
    /** The ldminfod answer, undefined when the server does not answer. */
    answer?: string;
}

/** Runs chooser.sh against fake servers with the given 8 random bytes; returns its stdout lines and exit status. */
function runChooser(servers: Server[], random: Buffer, env: Record<string, string>, command: string[] = []) {
    const dir = join(work, `s${scenario++}`);
    mkdirSync(dir);
    for (const s of servers) if (s.answer !== undefined) writeFileSync(join(dir, s.address), s.answer);
    writeFileSync(join(dir, "random"), random);
    const result = spawnSync("sh", [join(DIR, "chooser.sh"), ...(command.length ? ["--", ...command] : [])], {
        env: {
            PATH: `${fakeBin}:${process.env.PATH}`,
            FAKE_ANSWERS: dir,
            BALANCE_ENV: emptyEnv,
            BALANCE_RANDOM: join(dir, "random"),
            BALANCE_SERVERS: servers.map((s) => s.address).join(" "),
            BALANCE_TIMEOUT: "1",
            ...env,
        },
        encoding: "utf8",
    });
    return { lines: result.stdout.split("\n").filter(Boolean), status: result.status, stderr: result.stderr };
}

/** The same random numbers as `od -An -tu4` reads them (the machine's byte order). */
function randomFrom(bytes: Buffer): () => number {
    const words = [0, 4].map((at) => (endianness() === "LE" ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at)));
    let i = 0;
    return () => words[i++];
}

/** What the TypeScript chooser makes of the same answers (parseAnswer, in the configured order). */
function candidatesOf(servers: Server[]): Candidate[] {
    return servers.flatMap((s) => {
        const parsed = s.answer === undefined ? undefined : parseAnswer(s.answer);
        return parsed ? [{ server: s.address, ...parsed }] : [];
    });
}

// These run shell scripts (dozens of processes per test): generous time on a busy machine.
describe("chooser.sh agrees with choose.ts", { timeout: 60_000 }, () => {
    // Generated sites: 1-7 servers, any size, any rating, some down, some answering garbage.
    const gen = seededRandom(2026);
    const sites = Array.from({ length: 24 }, (_, n) => {
        const servers: Server[] = Array.from({ length: 1 + (gen() % 7) }, (_, i) => {
            const address = `10.9.${n}.${i + 1}`;
            const kind = gen() % 10;
            if (kind === 0) return { address };
            if (kind === 1) return { address, answer: "rating: busy\ncores: 4\n" };
            return { address, answer: `rating: ${gen() % 1001}\ncores: ${[1, 2, 4, 8, 16][gen() % 5]}\nload1: 0.50\nsessions: 3\n` };
        });
        const random = Buffer.alloc(8);
        random.writeUInt32LE(gen(), 0);
        random.writeUInt32LE(gen(), 4);
        return { servers, random };
    });

    it.each(["random", "weighted", "best-rated"] as const)("%s: the same server for the same answers and random numbers", (policy) => {
        const positions = new Set<number>();
        for (const { servers, random } of sites) {
            const expected = choose(policy, candidatesOf(servers), randomFrom(random));
            if (expected) positions.add(servers.findIndex((s) => s.address === expected.server));
            const run = runChooser(servers, random, { BALANCE_POLICY: policy });
            if (expected === undefined) {
                expect(run.status, run.stderr).toBe(3);
            } else {
                expect(run.lines, `${policy} ${JSON.stringify(servers)}`).toEqual([expected.server]);
            }
        }
        // The generated sites exercise the draw: the choice is not always the first server listed.
        expect(positions.size).toBeGreaterThan(2);
    });

    it.each(["sticky", "fixed"])("%s: the first preferred server that answers, else weighted", (policy) => {
        for (const { servers, random } of sites) {
            const prefer = servers
                .map((s) => s.address)
                .reverse()
                .slice(0, 3);
            const expected = choosePreferred(prefer, candidatesOf(servers), randomFrom(random));
            const run = runChooser(servers, random, { BALANCE_POLICY: policy, BALANCE_PREFER: prefer.join(" ") });
            if (expected === undefined) expect(run.status).toBe(3);
            else expect(run.lines).toEqual([expected.server]);
        }
    });

    it("falls back when the client's own server does not answer, and starts the session there", () => {
        const servers = [
            { address: "10.0.1.1" },
            { address: "10.0.1.2", answer: "rating: 10\ncores: 8\n" },
            { address: "10.0.1.3", answer: "rating: 900\ncores: 8\n" },
        ];
        const run = runChooser(servers, Buffer.alloc(8), { BALANCE_POLICY: "sticky", BALANCE_PREFER: "10.0.1.1 10.0.1.2" }, [
            "echo",
            "xfreerdp",
            "/v:{server}",
            "/f",
        ]);
        // 10.0.1.1 is down; 10.0.1.2 is next in the client's list (sticky ignores its low rating).
        expect(run.lines).toEqual(["10.0.1.2", "xfreerdp /v:10.0.1.2 /f"]);
        const appended = runChooser(servers, Buffer.alloc(8), { BALANCE_POLICY: "sticky", BALANCE_PREFER: "10.0.1.3" }, ["echo", "ssh", "-X"]);
        expect(appended.lines).toEqual(["10.0.1.3", "ssh -X 10.0.1.3"]);
    });

    it("fails clearly when no server answers or the policy is unknown", () => {
        const none = runChooser([{ address: "10.0.1.1" }], Buffer.alloc(8), { BALANCE_POLICY: "weighted" }, ["echo", "never"]);
        expect(none.status).toBe(3);
        expect(none.lines).toEqual([]);
        expect(none.stderr).toContain("no application server answered (asked: 10.0.1.1, port 9571)");
        const unknown = runChooser([{ address: "10.0.1.1" }], Buffer.alloc(8), { BALANCE_POLICY: "round-robin" });
        expect(unknown.status).toBe(2);
        expect(unknown.stderr).toContain('unknown BALANCE_POLICY "round-robin"');
    });

    it("reads the settings balance-env.sh kept from ltsp.conf at boot", () => {
        const envFile = join(work, "run", "balance.env");
        // As LTSP does: POST_INIT_BALANCE is eval'd in the shell where the section's parameters are set.
        execFileSync("sh", [
            "-c",
            `BALANCE_POLICY=sticky; BALANCE_PREFER="10.0.1.2 10.0.1.3"; HOSTNAME=pc01; CHOOSER_ENV_OUT=${envFile}; . ${join(DIR, "balance-env.sh")}`,
        ]);
        expect(readFileSync(envFile, "utf8")).toBe("BALANCE_POLICY='sticky'\nBALANCE_PREFER='10.0.1.2 10.0.1.3'\n");
        const servers = [
            { address: "10.0.1.2", answer: "rating: 500\ncores: 2\n" },
            { address: "10.0.1.3", answer: "rating: 500\ncores: 2\n" },
        ];
        const run = runChooser(servers, Buffer.alloc(8), { BALANCE_ENV: envFile, BALANCE_POLICY: "random" });
        // The file wins over the environment: sticky, first preferred.
        expect(run.lines).toEqual(["10.0.1.2"]);
    });
});

describe("ldminfod.sh", { timeout: 60_000 }, () => {
    function runLdminfod(f: { loadavg: string; cores: number; memTotalKb: number; memAvailableKb: number; userSessions: number; greeters?: number }) {
        const dir = join(work, `l${scenario++}`);
        mkdirSync(join(dir, "sessions"), { recursive: true });
        writeFileSync(join(dir, "loadavg"), `${f.loadavg} 0.40 0.30 1/123 4567\n`);
        writeFileSync(join(dir, "cpuinfo"), Array.from({ length: f.cores }, (_, i) => `processor\t: ${i}\nmodel name\t: fake\n\n`).join(""));
        writeFileSync(
            join(dir, "meminfo"),
            `MemTotal:       ${f.memTotalKb} kB\nMemFree:          123456 kB\nMemAvailable:   ${f.memAvailableKb} kB\n`,
        );
        for (let i = 0; i < f.userSessions; i++)
            writeFileSync(join(dir, "sessions", `${i + 1}`), "# This is private data. Do not parse.\nUID=1000\nCLASS=user\nSTATE=active\n");
        for (let i = 0; i < (f.greeters ?? 0); i++) writeFileSync(join(dir, "sessions", `c${i}`), "UID=110\nCLASS=greeter\n");
        const out = execFileSync("sh", [join(DIR, "ldminfod.sh")], {
            env: {
                PATH: process.env.PATH,
                LDMINFOD_LOADAVG: join(dir, "loadavg"),
                LDMINFOD_CPUINFO: join(dir, "cpuinfo"),
                LDMINFOD_MEMINFO: join(dir, "meminfo"),
                LDMINFOD_SESSIONS_DIR: join(dir, "sessions"),
            },
            encoding: "utf8",
        });
        return Object.fromEntries(
            out
                .trim()
                .split("\n")
                .map((line) => line.split(": ")),
        );
    }

    it.each([
        // 2 cores, load 0.52, 12 of 32 GB used, 1 user session (and a greeter, not counted):
        // load 52 x 10 / 2 = 260, sessions 1000 / 20 = 50, memory 12000000 x 1000 / 32000000 = 375 -> 1000 - 375 = 625.
        [{ loadavg: "0.52", cores: 2, memTotalKb: 32000000, memAvailableKb: 20000000, userSessions: 1, greeters: 1 }, 625, 1],
        // 8 cores, load 6.08 ("08" is not octal here), 40 sessions: load 608 x 10 / 8 = 760, sessions 40000 / 80 = 500 -> 240.
        [{ loadavg: "6.08", cores: 8, memTotalKb: 32000000, memAvailableKb: 30000000, userSessions: 40 }, 240, 40],
        // 1 core, load 12.5: overloaded -> 0.
        [{ loadavg: "12.5", cores: 1, memTotalKb: 1000000, memAvailableKb: 900000, userSessions: 0 }, 0, 0],
        // Idle 4 cores: memory 100000 x 1000 / 8000000 = 12 -> 988.
        [{ loadavg: "0.00", cores: 4, memTotalKb: 8000000, memAvailableKb: 7900000, userSessions: 0 }, 988, 0],
    ])("answers %j with rating %i", (figures, expected, sessions) => {
        const answer = runLdminfod(figures);
        expect(Number(answer.rating)).toBe(expected);
        expect(Number(answer.sessions)).toBe(sessions);
        expect(Number(answer.cores)).toBe(figures.cores);
        expect(answer.load1).toBe(figures.loadavg);
        expect(Object.keys(answer)).toEqual(["rating", "cores", "load1", "memtotal_kb", "memfree_kb", "sessions", "sessions_per_core"]);
        expect(
            rating({
                cores: figures.cores,
                load1Centi: loadToCenti(figures.loadavg),
                memTotalKb: figures.memTotalKb,
                memAvailableKb: figures.memAvailableKb,
                sessions,
            }),
        ).toBe(expected);
    });

    it("agrees with rating.ts on generated figures", () => {
        const gen = seededRandom(7);
        for (let i = 0; i < 15; i++) {
            const cores = 1 + (gen() % 32);
            const memTotalKb = 1000000 + (gen() % 64000000);
            const f = {
                loadavg: `${gen() % 40}.${String(gen() % 100).padStart(2, "0")}`,
                cores,
                memTotalKb,
                memAvailableKb: gen() % memTotalKb,
                userSessions: gen() % 60,
            };
            const answer = runLdminfod(f);
            const expected = rating({
                cores,
                load1Centi: loadToCenti(f.loadavg),
                memTotalKb,
                memAvailableKb: f.memAvailableKb,
                sessions: f.userSessions,
            });
            expect(Number(answer.rating), JSON.stringify(f)).toBe(expected);
        }
    });
});

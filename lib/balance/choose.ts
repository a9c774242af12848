import { type Advertised, SESSIONS_PER_CORE } from "./rating";

/**
 * What the thin client's chooser does at login (chooser.sh is the same logic in POSIX shell; a
 * unit test feeds both the same answers and the same random numbers and compares). Everything
 * is integer arithmetic on 32-bit random numbers, so the two agree exactly.
 *
 * `candidates` are the servers that answered, in the configured order, with what they advertise.
 */
export interface Candidate extends Advertised {
    server: string;
}

/** 32-bit unsigned random numbers: /dev/urandom on the client, a seeded generator in a simulation. */
export type Random = () => number;

export type RuntimePolicy = "random" | "weighted" | "best-rated" | "plain-best-rated";

/**
 * weighted: slack per mille added to every server, so that a balanced site still spreads by
 * size and no answering server has probability 0.
 */
export const WEIGHTED_FLOOR = 1;

/**
 * The rating the server would have with this client's session too: one session takes
 * 1000 / (cores x sessionsPerCore) per mille. One more session is a bigger step on a small server;
 * comparing ratings after the step keeps small servers from being overfilled by a whole session
 * (in the login storm simulation this took the runs within max/mean 1.10 from 81% to 93%).
 */
export function ratingAfterLogin(c: Advertised, sessionsPerCore = SESSIONS_PER_CORE): number {
    return c.rating - Math.trunc(1000 / (c.cores * sessionsPerCore));
}

/** The spec's randomized: any answering server, uniformly. */
function pickRandom(c: readonly Candidate[], random: Random): Candidate {
    return c[random() % c.length];
}

/** Draws one candidate with probability weight / total (weights are whole numbers). */
function draw(c: readonly Candidate[], weights: readonly number[], random: Random): Candidate {
    const total = weights.reduce((a, b) => a + b, 0);
    let r = random() % total;
    for (let i = 0; i < c.length; i++) {
        if (r < weights[i]) return c[i];
        r -= weights[i];
    }
    return c[c.length - 1];
}

/**
 * weighted: probability ~ cores x (after - lowest after + WEIGHTED_FLOOR), `after` the rating
 * after this login (ratingAfterLogin). With ratings linear in sessions per core, cores x (after -
 * lowest) is the number of sessions a server lacks to be as full as the fullest one: logins fill
 * the gaps in proportion ("water filling"). Ratings that are 50 logins old still say where the
 * gaps are; what the clients cannot see (how many others picked the same server since) is spread
 * over all servers by the draw instead of landing on one.
 */
function pickWeighted(c: readonly Candidate[], random: Random, sessionsPerCore: number): Candidate {
    const after = c.map((x) => ratingAfterLogin(x, sessionsPerCore));
    const lowest = Math.min(...after);
    return draw(
        c,
        c.map((x, i) => x.cores * (after[i] - lowest + WEIGHTED_FLOOR)),
        random,
    );
}

/**
 * best-rated, robust to stale ratings: draw two servers by size (cores), take the one rated better
 * after this login (the first on a tie). Power of two choices: a server with the best rating wins
 * only the draws it is part of (about 2 x its size share), not every login until the ratings
 * refresh.
 */
function pickBestOfTwo(c: readonly Candidate[], random: Random, sessionsPerCore: number): Candidate {
    const bySize = c.map((x) => x.cores);
    const first = draw(c, bySize, random);
    const second = draw(c, bySize, random);
    return ratingAfterLogin(second, sessionsPerCore) > ratingAfterLogin(first, sessionsPerCore) ? second : first;
}

/** The spec's best rated: the highest rating, the first listed on a tie (herds when ratings are stale). */
function pickPlainBest(c: readonly Candidate[]): Candidate {
    return c.reduce((best, x) => (x.rating > best.rating ? x : best));
}

export function choose(
    policy: RuntimePolicy,
    candidates: readonly Candidate[],
    random: Random,
    sessionsPerCore = SESSIONS_PER_CORE,
): Candidate | undefined {
    if (candidates.length === 0) return undefined;
    switch (policy) {
        case "random":
            return pickRandom(candidates, random);
        case "weighted":
            return pickWeighted(candidates, random, sessionsPerCore);
        case "best-rated":
            return pickBestOfTwo(candidates, random, sessionsPerCore);
        case "plain-best-rated":
            return pickPlainBest(candidates);
    }
}

/**
 * fixed and sticky: the first preferred server that answered (the preference list is the
 * client's ltsp.conf BALANCE_PREFER), else `weighted` over every answering server.
 */
export function choosePreferred(
    prefer: readonly string[],
    candidates: readonly Candidate[],
    random: Random,
    sessionsPerCore = SESSIONS_PER_CORE,
): Candidate | undefined {
    for (const server of prefer) {
        const answered = candidates.find((c) => c.server === server);
        if (answered) return answered;
    }
    return choose("weighted", candidates, random, sessionsPerCore);
}

/** A small seeded generator of 32-bit numbers (mulberry32) for simulations and tests. */
export function seededRandom(seed: number): Random {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return (t ^ (t >>> 14)) >>> 0;
    };
}

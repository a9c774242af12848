import { type Candidate, choose, type Random, type RuntimePolicy } from "./choose";
import { rating, type ServerFigures } from "./rating";

/**
 * A login storm, simulated: `logins` thin clients log in one after another; each asks every
 * server for its rating and picks by the policy. The servers' ratings are what they were at the
 * last refresh (every `refreshEvery` logins): the load average lags and every client in the
 * storm sees the same stale picture. Each session adds load and memory.
 */
export interface StormServer {
    name: string;
    cores: number;
    memoryMb: number;
}

/** How a session loads a server, for the simulation (a desktop session, roughly). */
export const SESSION_LOAD = 0.1;
export const SESSION_MEMORY_MB = 300;
export const IDLE_MEMORY_MB = 1024;

export function figures(server: StormServer, sessions: number): ServerFigures {
    const usedMb = Math.min(server.memoryMb, IDLE_MEMORY_MB + SESSION_MEMORY_MB * sessions);
    return {
        cores: server.cores,
        load1Centi: Math.round(SESSION_LOAD * sessions * 100),
        memTotalKb: server.memoryMb * 1024,
        memAvailableKb: (server.memoryMb - usedMb) * 1024,
        sessions,
    };
}

export function simulateStorm(
    servers: readonly StormServer[],
    policy: RuntimePolicy,
    opts: { logins: number; refreshEvery: number; random: Random },
): Map<string, number> {
    const sessions = new Map(servers.map((s) => [s.name, 0]));
    let seen: Candidate[] = [];
    for (let login = 0; login < opts.logins; login++) {
        if (login % opts.refreshEvery === 0) {
            seen = servers.map((s) => ({ server: s.name, cores: s.cores, rating: rating(figures(s, sessions.get(s.name)!)) }));
        }
        const chosen = choose(policy, seen, opts.random)!;
        sessions.set(chosen.server, sessions.get(chosen.server)! + 1);
    }
    return sessions;
}

/**
 * The rating ldminfod advertises (ldminfod.sh computes the same, in shell integer arithmetic;
 * a unit test runs both on the same inputs).
 *
 *   load_pm    = load1 x 1000 / cores                      one runnable task per core = full
 *   session_pm = sessions x 1000 / (cores x perCore)       perCore sessions per core = full (default 10)
 *   memory_pm  = (MemTotal - MemAvailable) x 1000 / MemTotal
 *   rating     = max(0, 1000 - max(load_pm, session_pm, memory_pm))
 *
 * So a rating is the free fraction of the server, in per mille, of whichever resource is scarcest:
 * 1000 idle, 0 full. Divisions truncate (shell arithmetic). Sessions count at once, when the
 * session opens; the load average follows a minute later, which is what makes plain best-rated
 * herd in a login storm.
 */
export const SESSIONS_PER_CORE = 10;

export interface ServerFigures {
    cores: number;
    /** /proc/loadavg's first field in hundredths (0.52 -> 52). */
    load1Centi: number;
    memTotalKb: number;
    memAvailableKb: number;
    /** User sessions (logind's CLASS=user sessions). */
    sessions: number;
}

export function rating(f: ServerFigures, sessionsPerCore = SESSIONS_PER_CORE): number {
    const cores = Math.max(1, f.cores);
    const loadPm = Math.trunc((f.load1Centi * 10) / cores);
    const sessionPm = Math.trunc((f.sessions * 1000) / (cores * sessionsPerCore));
    const memoryPm = f.memTotalKb > 0 ? Math.trunc(((f.memTotalKb - f.memAvailableKb) * 1000) / f.memTotalKb) : 1000;
    return Math.max(0, 1000 - Math.max(loadPm, sessionPm, memoryPm));
}

/** "0.52" -> 52, as ldminfod.sh turns the load average into an integer. */
export function loadToCenti(load: string): number {
    const m = /^(\d+)(?:\.(\d{0,2}))?/.exec(load);
    if (!m) return 0;
    return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
}

/** What a chooser needs from one server's answer. */
export interface Advertised {
    rating: number;
    cores: number;
}

/** Parses an ldminfod answer ("key: value" lines); undefined unless it has a rating and cores. */
export function parseAnswer(text: string): Advertised | undefined {
    const fields = new Map<string, string>();
    for (const line of text.split("\n")) {
        const m = /^([a-z0-9_]+):\s*(\S*)\s*$/.exec(line.replace(/\r$/, ""));
        if (m) fields.set(m[1], m[2]);
    }
    const rating = fields.get("rating");
    const cores = fields.get("cores");
    if (!rating || !cores || !/^\d+$/.test(rating) || !/^\d+$/.test(cores) || Number(cores) < 1) return undefined;
    return { rating: Math.min(1000, Number(rating)), cores: Number(cores) };
}

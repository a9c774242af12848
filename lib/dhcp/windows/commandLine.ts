/**
 * How PowerShell reaches a Windows DHCP Server: OpenSSH for Windows hands the command to its default
 * shell, cmd.exe, whose command line is at most 8191 characters (Microsoft, "Command prompt (Cmd.exe)
 * command-line string limitation"). A script travels as `powershell -EncodedCommand` (base64 of
 * UTF-16LE, about 2.67 characters per script character), so no cmd.exe quoting can touch it; a plan
 * too long for one command line is cut into several scripts, each run on its own.
 */

/** cmd.exe's documented maximum command-line length. */
export const CMD_EXE_COMMAND_LINE_LIMIT = 8191;

/**
 * What one of our command lines may use: the limit less a margin for what runs around it
 * (sshd starts `cmd.exe /c <command line>`; the margin leaves 191 characters for that prefix
 * and any quoting, several times what they take).
 */
export const COMMAND_LINE_BUDGET = 8000;

const POWERSHELL = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ";

/** Every script starts so: the first failing cmdlet stops it (and the SSH command fails). */
export const SCRIPT_PREAMBLE = "$ErrorActionPreference = 'Stop'";

/**
 * The command line OpenSSH on Windows runs: the script as -EncodedCommand (base64 of UTF-16LE),
 * so no quoting of the remote shell (cmd.exe by default) can touch it.
 */
export function encodedCommand(script: string): string {
    return POWERSHELL + Buffer.from(script, "utf16le").toString("base64");
}

/** encodedCommand(script).length, without building it. */
export function encodedCommandLength(script: string): number {
    return POWERSHELL.length + 4 * Math.ceil(Buffer.byteLength(script, "utf16le") / 3);
}

/** The script inside a command line made by encodedCommand. */
export function decodeCommandLine(commandLine: string): string {
    if (!commandLine.startsWith(POWERSHELL)) throw new Error(`not an encoded PowerShell command line: ${commandLine.slice(0, 60)}…`);
    return Buffer.from(commandLine.slice(POWERSHELL.length), "base64").toString("utf16le");
}

/** One statement of a script, and the line it needs run before it once per script (if any). */
export interface ScriptStatement {
    text: string;
    /** E.g. a snapshot the statement's condition reads; written once, before the first statement that needs it. */
    setup?: string;
}

/**
 * Packs statements, in order, into as few scripts as fit: each script is SCRIPT_PREAMBLE, then its
 * statements (with each setup line once, before the first statement needing it), and its command
 * line is at most `budget` characters. A statement too long for a script of its own is an error:
 * it cannot be cut.
 */
export function packScripts(statements: readonly ScriptStatement[], budget = COMMAND_LINE_BUDGET): string[] {
    const scripts: string[] = [];
    let lines: string[] = [];
    let setups = new Set<string>();
    const render = (body: string[]) => [SCRIPT_PREAMBLE, ...body, ""].join("\n");
    const withStatement = (body: string[], done: Set<string>, statement: ScriptStatement) =>
        statement.setup && !done.has(statement.setup) ? [...body, statement.setup, statement.text] : [...body, statement.text];

    for (const statement of statements) {
        const candidate = withStatement(lines, setups, statement);
        if (encodedCommandLength(render(candidate)) <= budget) {
            lines = candidate;
            if (statement.setup) setups.add(statement.setup);
            continue;
        }
        if (lines.length === 0)
            throw new Error(`a single statement does not fit in a ${budget}-character command line: ${statement.text.slice(0, 120)}…`);
        scripts.push(render(lines));
        setups = new Set<string>();
        lines = withStatement([], setups, statement);
        if (statement.setup) setups.add(statement.setup);
        if (encodedCommandLength(render(lines)) > budget) {
            throw new Error(`a single statement does not fit in a ${budget}-character command line: ${statement.text.slice(0, 120)}…`);
        }
    }
    if (lines.length) scripts.push(render(lines));
    return scripts;
}

/** PowerShell single-quoted literal: nothing inside is interpreted. */
export function psQuote(value: string | number): string {
    return `'${String(value).replace(/'/g, "''")}'`;
}

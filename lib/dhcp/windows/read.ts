import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMAND_LINE_BUDGET, encodedCommand, psQuote } from "./commandLine";

const READ_SCRIPT_FILE = join(__dirname, "read.ps1");

/**
 * The read script (lib/dhcp/windows/read.ps1) for one scope, as sent: its comment lines and
 * indentation are for the reader of the file and stay home (it has no here-strings they could be part of).
 */
export function readScript(scopeId: string): string {
    const body = readFileSync(READ_SCRIPT_FILE, "utf8")
        .split("\n")
        .filter((line) => !/^\s*#/.test(line))
        .map((line) => line.trimStart());
    return [`$id = ${psQuote(scopeId)}`, ...body].join("\n");
}

/** The read as a command line (not mutating); it fits one cmd.exe command line like every step. */
export function windowsReadCommandLine(scopeId: string): string {
    const commandLine = encodedCommand(readScript(scopeId));
    if (commandLine.length > COMMAND_LINE_BUDGET)
        throw new Error(`the read script's command line is ${commandLine.length} characters, over ${COMMAND_LINE_BUDGET}`);
    return commandLine;
}

import type { Step } from "../../engine/steps";
import { actionStatement, type WindowsAction, type WindowsOwned } from "./actions";
import { COMMAND_LINE_BUDGET, encodedCommand, packScripts, SCRIPT_PREAMBLE, type ScriptStatement } from "./commandLine";
import type { WindowsDesired } from "./desired";
import { planWindowsActions } from "./plan";
import type { WindowsState } from "./state";

/**
 * The engine's step for one script on the remote host, sent as `commandLine` (at most
 * COMMAND_LINE_BUDGET characters), described by `what` in one line for logs.
 */
export type RemoteScriptStep = Extract<Step, { kind: "remote-script" }>;

function scriptSteps(label: string, statements: readonly ScriptStatement[], budget: number): RemoteScriptStep[] {
    const scripts = packScripts(statements, budget);
    return scripts.map((script, index) => {
        const cmdlets = script.split("\n").filter((line) => line && line !== SCRIPT_PREAMBLE && !line.startsWith("$reserved = ")).length;
        const part = scripts.length > 1 ? `, script ${index + 1} of ${scripts.length}` : "";
        return {
            kind: "remote-script",
            what: `${label}: ${cmdlets} DhcpServer cmdlet${cmdlets === 1 ? "" : "s"}${part}`,
            commandLine: encodedCommand(script),
            mutating: true,
        };
    });
}

/**
 * The plan as steps, in order: each an idempotent script ($ErrorActionPreference = 'Stop', every
 * Add/Remove under the condition that it is still needed) whose command line fits cmd.exe.
 * No steps when the server already matches.
 */
export function windowsApplySteps(
    desired: WindowsDesired,
    state: WindowsState,
    budget = COMMAND_LINE_BUDGET,
    owned?: WindowsOwned,
): RemoteScriptStep[] {
    return windowsActionSteps(`configure DHCP scope ${desired.scopeId}`, desired.scopeId, planWindowsActions(desired, state, owned), budget);
}

/** Actions as steps (see windowsApplySteps). */
export function windowsActionSteps(
    label: string,
    scopeId: string,
    actions: readonly WindowsAction[],
    budget = COMMAND_LINE_BUDGET,
): RemoteScriptStep[] {
    return scriptSteps(
        label,
        actions.map((a) => actionStatement(a, scopeId)),
        budget,
    );
}

/** The cmdlets as one script, unconditioned and unsplit: for reading, not for sending (see windowsApplySteps). */
export function renderScript(commands: readonly string[]): string {
    return [SCRIPT_PREAMBLE, ...commands, ""].join("\n");
}

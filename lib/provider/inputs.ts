import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import type { CheckFailure, Validated } from "../core/fields";

/** Resource args in which every nested field may also be an Output (as Pulumi users expect). */
export type DeepInput<T> = T extends readonly (infer U)[]
    ? pulumi.Input<DeepInput<U>[]>
    : T extends object
      ? pulumi.Input<{ [K in keyof T]: DeepInput<T[K]> }>
      : pulumi.Input<T>;

/** A resource's args: a plain object whose fields are DeepInputs. */
export type ResourceArgs<T> = { [K in keyof T]: DeepInput<T[K]> };

/** How the engine marks a value not known until apply (during preview). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
    return false;
}

/** Whether the value at a failure's field (`nodes[2].mac`, `dhcp.rangeEnd`), or anything on the way to it, is unknown. */
function pathTouchesUnknown(inputs: unknown, property: string): boolean {
    let value: unknown = inputs;
    for (const segment of property.split(/[.[\]]+/).filter(Boolean)) {
        if (value === UNKNOWN) return true;
        if (value === null || typeof value !== "object") return false;
        value = (value as Record<string, unknown>)[segment];
    }
    return value === UNKNOWN;
}

/** The engine's own bookkeeping field in dynamic resource properties. */
export function withoutProvider<T extends Record<string, unknown>>(props: T): Omit<T, "__provider"> {
    const { __provider: _ignored, ...rest } = props;
    return rest;
}

/**
 * A provider's `check`: validates the inputs and, when every value is known, returns them
 * completed (defaults, rendered files) by `complete`. During a preview some values may not be
 * known yet; every failure about a known value is still reported, and the checks that need the
 * unknown ones run again in create/update (`requireValid`), before any host is touched.
 */
export function checkInputs<T>(
    news: Record<string, unknown>,
    inputs: Record<string, unknown>,
    validate: (inputs: unknown) => Validated<T>,
    complete: (spec: T) => Record<string, unknown>,
): pulumi.dynamic.CheckResult {
    const validated = validate(inputs);
    if (containsUnknown(inputs)) {
        const failures = validated.ok ? [] : knownFailures(inputs, validated.failures);
        return failures.length ? { failures } : { inputs: news };
    }
    return validated.ok ? { inputs: withoutUndefined(complete(validated.spec)) } : { failures: validated.failures };
}

/** The engine's property structs have no `undefined`: an unset field is left out. */
function withoutUndefined(props: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
}

/** Failures that do not depend on a value the engine does not know yet. */
export function knownFailures(inputs: unknown, failures: readonly CheckFailure[]): CheckFailure[] {
    return failures.filter((f) => !f.reason.includes(UNKNOWN) && !pathTouchesUnknown(inputs, f.property));
}

/** create/update's guard: the full validation (values unknown at preview are known now), failing before any host is touched. */
export function requireValid<T>(what: string, validated: Validated<T>): T {
    if (validated.ok) return validated.spec;
    throw new Error(`${what}: invalid inputs, nothing was changed:\n${validated.failures.map((f) => `  ${f.reason}`).join("\n")}`);
}

/** Whether the inputs-part of two property bags differ (fields in `keys` only). */
export function inputsDiffer(olds: Record<string, unknown>, news: Record<string, unknown>, keys: readonly string[]): string[] {
    return keys.filter((k) => !isDeepStrictEqual(olds[k] ?? null, news[k] ?? null));
}

/**
 * A diff's `replaces` for how a resource reaches its host. The pinned host key says which machine
 * it is: the same machine reached by another address, name, port or user is the same host (an
 * update, which converges there), and only another key is another machine, where the new resource
 * is built before the old one's delete runs, on the old machine.
 */
export function anotherMachine(
    olds: { connection?: { hostKeyFingerprint?: string } },
    news: { connection?: { hostKeyFingerprint?: string } },
): string[] {
    return olds.connection?.hostKeyFingerprint !== news.connection?.hostKeyFingerprint ? ["connection.hostKeyFingerprint"] : [];
}

import { isDeepStrictEqual } from "node:util";
import * as pulumi from "@pulumi/pulumi";

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

/** The engine's own bookkeeping field in dynamic resource properties. */
export function withoutProvider<T extends Record<string, unknown>>(props: T): Omit<T, "__provider"> {
    const { __provider: _ignored, ...rest } = props;
    return rest;
}

/** Whether the inputs-part of two property bags differ (fields in `keys` only). */
export function inputsDiffer(olds: Record<string, unknown>, news: Record<string, unknown>, keys: readonly string[]): string[] {
    return keys.filter((k) => !isDeepStrictEqual(olds[k] ?? null, news[k] ?? null));
}

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type * as pulumi from "@pulumi/pulumi";

type Method = "check" | "diff" | "read" | "update" | "delete";
type Implementation = Required<Pick<pulumi.dynamic.ResourceProvider, Method | "create">>;

/** The directory of the nearest package.json at or above `start`. */
export function packageRootOf(start: string): string {
    for (let dir = start; ; dir = dirname(dir)) {
        if (existsSync(join(dir, "package.json"))) return dir;
        if (dirname(dir) === dir) throw new Error(`no package.json at or above ${start}`);
    }
}

/** This package: its root (a checkout, or node_modules/<name> where it is installed) and its name. */
const PACKAGE_ROOT = packageRootOf(__dirname);
const PACKAGE_NAME: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")).name;

/** A module of this package as the loader names it: its path from the package root, with forward slashes. */
export function packageRelative(modulePath: string): string {
    const rel = relative(PACKAGE_ROOT, modulePath);
    if (rel.startsWith("..") || rel === "") throw new Error(`${modulePath} is not inside the package at ${PACKAGE_ROOT}`);
    return rel.split(sep).join("/");
}

/**
 * The provider handed to the engine for every dynamic resource. The engine serializes it into
 * each resource's state (twice: inputs and outputs), so it must stay tiny: it captures the
 * package name and the module's path inside the package, never an absolute path, so a state
 * written in one checkout is refreshed or destroyed from a clone anywhere else, or from a
 * program that installed the package. When first called in the dynamic-provider process it
 * finds the package from the process's cwd, which the engine sets to the program's directory:
 * the program's own package when the nearest package.json there names this package (a
 * checkout of this repository, at any path), else this package installed as a dependency of
 * the program. It registers the package's own ts-node with the package's tsconfig when the
 * module is TypeScript (a checkout; the packed package ships compiled JS), and loads
 * `exportName` of the module.
 * `methods` lists what the implementation has besides create, so nothing else is serialized
 * (a missing method is the engine's default).
 */
export function lazyProvider(modulePath: string, exportName: string, methods: readonly Method[]): pulumi.dynamic.ResourceProvider {
    const pkg = PACKAGE_NAME;
    const rel = packageRelative(modulePath);
    // No comments inside `load`: its text is what the state stores.
    const load = (): Implementation => {
        const { dirname, join } = require("node:path");
        let root = process.cwd();
        while (!require("node:fs").existsSync(join(root, "package.json")) && dirname(root) !== root) root = dirname(root);
        if (require(join(root, "package.json")).name !== pkg) root = dirname(require.resolve(`${pkg}/package.json`, { paths: [root] }));
        const g = globalThis as { __netbootTsNode?: boolean };
        if (rel.endsWith(".ts") && !g.__netbootTsNode) {
            require(require.resolve("ts-node", { paths: [root] })).register({ transpileOnly: true, project: join(root, "tsconfig.json") });
            g.__netbootTsNode = true;
        }
        return require(join(root, rel))[exportName];
    };
    const all: Implementation = {
        check: (o, n) => load().check(o, n),
        diff: (i, o, n) => load().diff(i, o, n),
        create: (n) => load().create(n),
        read: (i, p) => load().read(i, p),
        update: (i, o, n) => load().update(i, o, n),
        delete: (i, p) => load().delete(i, p),
    };
    const provider: pulumi.dynamic.ResourceProvider = { create: all.create };
    for (const m of methods) (provider as Record<Method, unknown>)[m] = all[m];
    return provider;
}

/** A resource as `pulumi stack export` writes it (only what adoptPortableProviders reads and writes). */
export interface ExportedResource {
    urn: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** The earlier loader's provider captured an absolute `modulePath`; this one never does. */
export function isAbsolutePathProvider(provider: unknown): boolean {
    return typeof provider === "string" && /\bmodulePath: "\//.test(provider);
}

/**
 * Makes a state written by the earlier loader portable. The engine keeps a dynamic resource's
 * provider twice: in its inputs, which every `up` replaces with the current program's, and in
 * its outputs, which only a create or update replaces, and which refresh and destroy run. So
 * after one `up` with this loader, an unchanged resource has the portable provider in its inputs
 * and the absolute-path one in its outputs: this copies the first over the second (what an
 * update would have done) and returns what it changed and what still needs that `up` first.
 */
export function adoptPortableProviders(resources: ExportedResource[]): { adopted: string[]; needUp: string[] } {
    const adopted: string[] = [];
    const needUp: string[] = [];
    for (const resource of resources) {
        const current = resource.inputs?.__provider;
        if (!resource.outputs || !isAbsolutePathProvider(resource.outputs.__provider)) continue;
        if (typeof current !== "string" || isAbsolutePathProvider(current)) {
            needUp.push(resource.urn);
            continue;
        }
        resource.outputs.__provider = current;
        adopted.push(resource.urn);
    }
    return { adopted, needUp };
}

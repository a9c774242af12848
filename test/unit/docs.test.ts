import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { INPUTS_TABLES, regeneratePage } from "../../scripts/docs/inputsTables";

/** Issue 18: a README that fits a screen, and docs pages that it links and that cannot drift from the code. */
const ROOT = resolve(__dirname, "../..");

function filesUnder(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
}
const docsFiles = filesUnder(join(ROOT, "docs"));
const pages = [join(ROOT, "README.md"), ...docsFiles.filter((f) => f.endsWith(".md"))];

/** The relative targets of a page's Markdown links (outside code blocks), with their #fragment if any. */
function relativeLinksWithFragments(text: string): string[] {
    const prose = text.replace(/```[\s\S]*?```/g, "");
    return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}
const relativeLinks = (text: string) =>
    relativeLinksWithFragments(text)
        .filter((t) => !t.startsWith("#"))
        .map((t) => t.split("#")[0]);

/** The anchors GitHub makes of a page's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchorsOf(text: string): Set<string> {
    const headings = text.replace(/```[\s\S]*?```/g, "").match(/^#{1,6} .+$/gm) ?? [];
    return new Set(
        headings.map((h) =>
            h
                .replace(/^#+ /, "")
                .toLowerCase()
                .replace(/[^\p{L}\p{N} _-]/gu, "")
                .replace(/ /g, "-"),
        ),
    );
}

describe("README and docs", () => {
    it("the README fits a screen: at most 250 lines", () => {
        expect(readFileSync(join(ROOT, "README.md"), "utf8").trimEnd().split("\n").length).toBeLessThanOrEqual(250);
    });

    it("every relative link in README.md and docs/**/*.md points to an existing file", () => {
        const broken = pages.flatMap((page) =>
            relativeLinks(readFileSync(page, "utf8"))
                .filter((target) => !existsSync(resolve(dirname(page), target)))
                .map((target) => `${relative(ROOT, page)}: ${target}`),
        );
        expect(broken).toEqual([]);
    });

    it("every #fragment of those links names a heading of its page", () => {
        const broken = pages.flatMap((page) =>
            relativeLinksWithFragments(readFileSync(page, "utf8"))
                .filter((target) => target.includes("#"))
                .filter((target) => {
                    const [file, fragment] = target.split("#");
                    const path = file ? resolve(dirname(page), file) : page;
                    return !existsSync(path) || !path.endsWith(".md") || !anchorsOf(readFileSync(path, "utf8")).has(fragment);
                })
                .map((target) => `${relative(ROOT, page)}: ${target}`),
        );
        expect(broken).toEqual([]);
    });

    it("every file under docs/ is linked from the README", () => {
        const linked = new Set(relativeLinks(readFileSync(join(ROOT, "README.md"), "utf8")).map((target) => resolve(ROOT, target)));
        expect(docsFiles.filter((file) => !linked.has(file)).map((file) => relative(ROOT, file))).toEqual([]);
    });

    it("the README's test command is the one CI runs", () => {
        const ci = readFileSync(join(ROOT, ".ci/run"), "utf8");
        expect(ci).toMatch(/^exec scripts\/test$/m);
        expect(readFileSync(join(ROOT, "README.md"), "utf8")).toMatch(/^scripts\/test {4}# /m);
    });

    it.each(INPUTS_TABLES.map((table) => [table.name, table] as const))(
        "the inputs table of %s is what scripts/gen-docs generates",
        async (_name, table) => {
            const text = readFileSync(join(ROOT, table.page), "utf8");
            expect(await regeneratePage(table, text)).toBe(text);
        },
    );
});

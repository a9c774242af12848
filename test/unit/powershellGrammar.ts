import { Language, type Node, Parser } from "web-tree-sitter";

/**
 * A real PowerShell grammar for the tests: tree-sitter-powershell (Airbus CERT), loaded from the
 * WebAssembly build that its npm package ships, through web-tree-sitter. The WASM route needs no
 * native module: `npm install --ignore-scripts` is all the setup it takes (the native `tree-sitter`
 * prebuilt for linux-x64 wants GLIBCXX_3.4.31, which Debian 12's libstdc++ does not have).
 */
let parser: Promise<Parser> | undefined;

function powershellParser(): Promise<Parser> {
    parser ??= (async () => {
        await Parser.init();
        const language = await Language.load(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm"));
        const p = new Parser();
        p.setLanguage(language);
        return p;
    })();
    return parser;
}

/** Every ERROR and MISSING node of the script's syntax tree, as "line:column kind text"; none for a script that parses. */
export async function powershellSyntaxErrors(script: string): Promise<string[]> {
    const tree = (await powershellParser()).parse(script);
    if (!tree) throw new Error("tree-sitter returned no tree");
    const problems: string[] = [];
    const visit = (node: Node) => {
        if (node.isError || node.isMissing) {
            const where = `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
            problems.push(`${where} ${node.isMissing ? `MISSING ${node.type}` : "ERROR"} ${JSON.stringify(node.text.slice(0, 80))}`);
        }
        for (const child of node.children) if (child) visit(child);
    };
    visit(tree.rootNode);
    if (tree.rootNode.hasError && problems.length === 0) problems.push("the tree has an error that no node shows");
    tree.delete();
    return problems;
}

/** The syntax tree in S-expression form (for tests that check how a line was read). */
export async function powershellTree(script: string): Promise<string> {
    const tree = (await powershellParser()).parse(script);
    if (!tree) throw new Error("tree-sitter returned no tree");
    const text = tree.rootNode.toString();
    tree.delete();
    return text;
}

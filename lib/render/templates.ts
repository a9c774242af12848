import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import { shq } from "../ssh/shell";

/** templates/ at the top of the repository: file syntax lives there, not in code. */
export const TEMPLATE_DIR = join(__dirname, "..", "..", "templates");

const compiled = new Map<string, Handlebars.TemplateDelegate>();

// templates/_NAME.hbs is the partial NAME ({{> NAME}}): syntax shared by two files lives once.
let partialsLoaded = false;
function loadPartials(): void {
    if (partialsLoaded) return;
    for (const file of readdirSync(TEMPLATE_DIR)) {
        if (file.startsWith("_") && file.endsWith(".hbs"))
            Handlebars.registerPartial(file.slice(1, -4), readFileSync(join(TEMPLATE_DIR, file), "utf8"));
    }
    partialsLoaded = true;
}

// For JSON files (Kea): a value written as a JSON literal, quoted and escaped.
Handlebars.registerHelper("json", (value: unknown) => JSON.stringify(value));
// For files a POSIX shell sources: a value as one single-quoted word.
Handlebars.registerHelper("shell", (value: unknown) => shq(String(value)));

/**
 * Renders templates/<name>.hbs. Config files are not HTML, so nothing is escaped: values are
 * validated before they get here, and code quotes what needs quoting.
 */
export function renderTemplate(name: string, context: object): string {
    loadPartials();
    let template = compiled.get(name);
    if (!template) {
        const source = readFileSync(join(TEMPLATE_DIR, `${name}.hbs`), "utf8");
        template = Handlebars.compile(source, { noEscape: true, strict: true });
        compiled.set(name, template);
    }
    return template(context);
}

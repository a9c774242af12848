import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cloneCheckout, pulumi, pulumiEnv, ROOT, scratchDir } from "./helpers";

/**
 * Issue 17: a secret given as plain config is refused at preview with the command that stores it
 * as a secret, and no message shows its value. Here with the real CLI and language host, which
 * tell the program which keys are secrets (PULUMI_CONFIG_SECRET_KEYS). The render site's config,
 * less its munge key (encrypted with the lab's passphrase): both previews fail before any resource.
 */
const scratch = scratchDir("secrets");
const KEY = join(ROOT, "test", "fixtures", "unit-test-key");
const VALUE = "xq7-plain-munge";

describe("the render site's munge key", () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
        dir = cloneCheckout(join(scratch, "project"));
        env = pulumiEnv(join(scratch, "state"), { NO_COLOR: "1" });
        const config = readFileSync(join(dir, "Pulumi.render.yaml"), "utf8")
            .replaceAll("/var/lib/netboot-lab/ssh/id_ed25519", KEY)
            .replace(/ {2}netboot:mungeKey:\n {4}secure: \S+\n/, "")
            .replace(/encryptionsalt: \S+\n/, "");
        // Without the lab's salt, `stack init` makes one of its own for this passphrase.
        writeFileSync(join(dir, "Pulumi.render.yaml"), config);
        await pulumi(dir, env, ["stack", "init", "render"]);
    }, 5 * 60_000);

    it(
        "plain: the preview fails naming the key and the command, never the value",
        async () => {
            await pulumi(dir, env, ["config", "set", "netboot:mungeKey", VALUE, "--stack", "render"]);
            const preview = await pulumi(dir, env, ["preview", "--stack", "render"], 1);
            expect(preview.output).toContain(
                "netboot:mungeKey is stored in plain text in Pulumi.render.yaml; set it as a secret: pulumi config set --secret netboot:mungeKey <value>",
            );
            expect(preview.output).not.toContain(VALUE);
        },
        5 * 60_000,
    );

    it(
        "a secret too short: named as [secret], never shown",
        async () => {
            await pulumi(dir, env, ["config", "set", "--secret", "netboot:mungeKey", VALUE, "--stack", "render"]);
            const preview = await pulumi(dir, env, ["preview", "--stack", "render"], 1);
            expect(preview.output).toContain("netboot:mungeKey: [secret] is shorter than 32 bytes (munged refuses it)");
            expect(preview.output).not.toContain("is stored in plain text");
            expect(preview.output).not.toContain(VALUE);
        },
        5 * 60_000,
    );
});

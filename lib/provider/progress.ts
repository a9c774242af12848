import * as pulumi from "@pulumi/pulumi";

/**
 * The dynamic-provider process is started as `node .../cmd/dynamic-provider <engine address>`
 * but, unlike a program, is not told to log through the engine. Pointing the SDK at that address
 * makes pulumi.log reach `pulumi up`, so long phases are visible while they run.
 */
function connectLogToEngine(): void {
    const isDynamicProvider = (process.argv[1] ?? "").includes("dynamic-provider");
    if (isDynamicProvider && !process.env.PULUMI_NODEJS_ENGINE && process.argv[2]) {
        process.env.PULUMI_NODEJS_ENGINE = process.argv[2];
    }
}

/** One progress line, with the time since `startedAt` when given. */
export function progress(message: string, startedAt?: number): void {
    connectLogToEngine();
    const elapsed = startedAt === undefined ? "" : ` [+${((Date.now() - startedAt) / 1000).toFixed(1)}s]`;
    void pulumi.log.info(message + elapsed);
}

import { observeHost } from "./observe";
import { RemoteHost } from "../ssh/remoteHost";

const INSTALL = `if [ -n "$1" ]; then export http_proxy=$1; fi; shift
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "$@"`;

/**
 * Installs whichever of `packages` are missing, through `aptProxy` when given. Resources on one
 * host run in parallel; apt allows one at a time, so installs on a host take turns (and wait for
 * a dpkg lock held by anything else), and each looks again once it has its turn.
 */
export async function ensurePackages(host: RemoteHost, packages: readonly string[], aptProxy?: string): Promise<string[]> {
    return host.exclusive("apt", async () => {
        const observed = await observeHost(host, { packages });
        const missing = packages.filter((p) => observed.packages[p] === null);
        if (missing.length) {
            await host.mutate(`apt-get install ${missing.join(" ")}`, INSTALL, [aptProxy ?? "", ...missing], { timeoutMs: 30 * 60_000 });
        }
        return missing;
    });
}

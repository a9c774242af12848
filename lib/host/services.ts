import { RemoteHost } from "../ssh/remoteHost";

/** Restarts a unit and checks it stays up; a failure carries the unit's last journal lines. */
export async function restartService(host: RemoteHost, service: string): Promise<void> {
    await host.mutate(`restart ${service}`, 'systemctl restart "$1" && systemctl is-active --quiet "$1"', [service]).catch(async (err: Error) => {
        const journal = await host.exec('journalctl -u "$1" -n 20 --no-pager 2>&1', [service]);
        throw new Error(`${err.message}\n${journal.stdout}`);
    });
}

export async function enableService(host: RemoteHost, service: string): Promise<void> {
    await host.mutate(`enable ${service}`, 'systemctl enable --quiet "$1"', [service]);
}

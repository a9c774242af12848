import { parseSubnet } from "../../core/fields";

/**
 * Which changes of a windows scope's inputs replace it: a Windows scope is identified by its scope
 * ID, so another network is another scope. `subnet` is compared as its network: 10.20.0.0/24 and
 * 10.20.0.7/24 are the same scope. A new prefix on the same network is an update, not a
 * replacement: the plan removes and adds the scope again only where that is safe (see planWindows),
 * where a replacement would delete it unconditionally first.
 */
export function windowsReplaceKeys(
    olds: { subnet?: string; windows?: { scopeId?: string } },
    news: { subnet?: string; windows?: { scopeId?: string } },
): string[] {
    const network = (cidr: string | undefined) => (cidr === undefined ? undefined : (parseSubnet(cidr)?.network ?? cidr));
    const keys: string[] = [];
    if (network(olds.subnet) !== network(news.subnet)) keys.push("subnet");
    if (olds.windows?.scopeId !== news.windows?.scopeId) keys.push("windows.scopeId");
    return keys;
}

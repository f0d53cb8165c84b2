// Which Host and Origin headers the local server answers. Checking Origin against the request's own
// Host is not enough: a page from evil.example whose name resolves to 127.0.0.1 (DNS rebinding)
// sends Host: evil.example:PORT and a matching Origin. So the Host itself must be one of ours.
import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export const isLoopbackHost = (host: string): boolean => host === '127.0.0.1' || host === 'localhost' || host === '::1';

/** A client connecting from this machine (the socket's remote address, IPv4, IPv6 or IPv4-mapped). */
export const isLoopbackAddress = (address: string | undefined): boolean =>
  address !== undefined && (/^(?:::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(address) || address === '::1');

const bracketed = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/**
 * The host names a browser may use to reach a server bound to `bindHost`: the loopback names always;
 * for a wildcard binding (0.0.0.0, ::) this machine's addresses and name; for any other binding that
 * address itself; plus whatever the user configured (--allowed-host).
 */
export function allowedHostNames(bindHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>(LOOPBACK_NAMES);
  if (bindHost === '0.0.0.0' || bindHost === '::') {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(bracketed(a.address.toLowerCase()));
    names.add(hostname().toLowerCase());
  } else if (!isLoopbackHost(bindHost)) {
    names.add(bracketed(bindHost.toLowerCase()));
  }
  for (const name of extra) names.add(bracketed(name.toLowerCase()));
  return names;
}

export class HostCheck {
  private readonly hosts = new Set<string>();

  constructor(names: Set<string>, port: number) {
    for (const name of names) {
      this.hosts.add(`${name}:${port}`);
      if (port === 80) this.hosts.add(name);
    }
  }

  /** A Host header naming this server (name and port). */
  hostAllowed(host: string | undefined): boolean {
    return host !== undefined && this.hosts.has(host.toLowerCase());
  }

  /** No Origin (a non-browser client) or an http(s) origin on one of the allowed hosts. */
  originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    const match = /^https?:\/\/([^/]+)$/i.exec(origin);
    return match !== null && this.hosts.has(match[1].toLowerCase());
  }
}

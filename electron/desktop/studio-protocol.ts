// The studio:// scheme's handler: the built renderer from its folder and the gallery's PNGs, under
// the one origin studio://app. Every response carries the desktop's Content-Security-Policy as a header,
// on top of the page's <meta> policy (which the local server's pages share, and which must let them open
// a WebSocket): in the window the renderer talks only through the preload bridge, so it may connect to
// nothing but its own origin (no WebSocket anywhere), and embeds, <base>, forms and frames are refused.
// No Electron at run time: main.ts passes net.fetch and the gallery in.
import { resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Applies with the page's own <meta> policy: a request must pass both. */
export const DESKTOP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "worker-src 'none'",
].join('; ');

export interface StudioProtocolOptions {
  /** The built renderer (renderer/dist). */
  rendererDir: string;
  /** A gallery image's bytes by id, undefined when there is none (Gallery.read). */
  readGallery: (id: string) => Buffer | undefined;
  /** Reads a file: URL (Electron's net.fetch). */
  fetchFile: (url: string) => Promise<Response>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': DESKTOP_CSP,
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin',
};

function notFound(): Response {
  return new Response('not found', { status: 404, headers: SECURITY_HEADERS });
}

/** `path` decoded, or null when it is not valid percent-encoding. */
function decoded(path: string): string | null {
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}

export function studioProtocol({ rendererDir, readGallery, fetchFile }: StudioProtocolOptions): (request: Request) => Promise<Response> {
  const root = resolve(rendererDir);
  return async (request) => {
    const url = new URL(request.url);
    if (url.protocol !== 'studio:' || url.host !== 'app') return notFound();
    // Gallery images live under the app's own origin, so the page's CSP ('self') covers them.
    if (url.pathname.startsWith('/gallery/')) {
      const id = decoded(url.pathname.slice('/gallery/'.length));
      const png = id === null ? undefined : readGallery(id);
      return png ? new Response(new Uint8Array(png), { headers: { ...SECURITY_HEADERS, 'content-type': 'image/png' } }) : notFound();
    }
    const pathname = decoded(url.pathname);
    if (pathname === null) return notFound();
    const path = resolve(root, pathname.slice(1) || 'index.html');
    if (!path.startsWith(root + sep)) return notFound();
    let file: Response;
    try {
      file = await fetchFile(pathToFileURL(path).toString());
    } catch {
      return notFound();
    }
    const headers = new Headers(file.headers);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
    return new Response(file.body, { status: file.status, statusText: file.statusText, headers });
  };
}

// Local mode of the app: the same renderer served over HTTP, the same contract over a WebSocket.
// Bound to 127.0.0.1 unless told otherwise; any other binding requires a per-launch token; requests
// naming another Host (DNS rebinding) and WebSocket connections from other origins are refused;
// only the gallery's own files are served.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { validateCall, type ServerMessage } from '../../src-core/contract/api.ts';
import { appRoot } from '../../src-core/app-root.ts';
import type { StudioService } from '../service.ts';
import { allowedHostNames, HostCheck, isLoopbackAddress, isLoopbackHost } from './host-check.ts';
import { oversizeProblem, replyText } from './message-limits.ts';

export const RENDERER_DIST = join(appRoot(), 'renderer', 'dist');
/** The largest message at all (png.read carries a whole PNG); other methods have a far smaller cap. */
export const MAX_MESSAGE_BYTES = 48 * 1024 * 1024;
/**
 * What may wait unsent to one client before it is disconnected: a client that stops reading would otherwise keep
 * every reply and event (previews come 20 a second) in this process's memory.
 */
export const MAX_UNSENT_BYTES = 64 * 1024 * 1024;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};
// connect-src 'self' takes in the page's WebSocket to this server (CSP 3: ws: and wss: to the page's own host and
// port), and nothing else: page script reaching another host is what injected script would want.
const CSP =
  "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

export interface ServerOptions {
  service: StudioService;
  host?: string;
  port?: number;
  /** Required for any host other than loopback (generated when absent); optional on loopback. */
  token?: string;
  staticDir?: string;
  /** Extra host names the server may be reached by (besides loopback and, for 0.0.0.0, this machine's addresses). */
  allowedHosts?: string[];
  /** MAX_UNSENT_BYTES unless given (tests). */
  maxUnsentBytes?: number;
}

export interface RunningServer {
  server: Server;
  url: string;
  token: string | null;
  close(): Promise<void>;
}

/**
 * A request's URL, or null where it cannot be parsed: `//` and the like are paths to Node's HTTP parser but not to
 * `new URL` (an empty host), and a throw in a request handler would end the process, engine and jobs with it.
 */
function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://x');
  } catch {
    return null;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a),
    y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type = 'text/plain; charset=utf-8',
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'x-content-type-options': 'nosniff',
    'content-security-policy': CSP,
    'referrer-policy': 'no-referrer',
    ...extra,
  });
  res.end(body);
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = isLoopbackHost(host) ? (options.token ?? null) : (options.token ?? randomBytes(24).toString('base64url'));
  const staticDir = resolve(options.staticDir ?? RENDERER_DIST);
  const { service } = options;

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (token === null) return true;
    const given = url.searchParams.get('token') ?? /(?:^|;\s*)studio_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '';
    return safeEqual(given, token);
  };

  // Set once the port is known (listen below); until then nothing is answered.
  // eslint-disable-next-line prefer-const -- read by the handlers above its one assignment, which comes after listen
  let hostCheck: HostCheck | undefined;

  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    if (!hostCheck?.hostAllowed(req.headers.host))
      return send(res, 421, 'this server answers only to its own address (misdirected request)');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    const url = requestUrl(req);
    if (!url) return send(res, 400, 'bad request');
    if (!authorized(req, url)) return send(res, 401, 'a token is required: open the URL printed when the server started');
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return send(res, 400, 'bad request');
    }
    if (pathname.includes('\0')) return send(res, 400, 'bad request');
    const cookie = token ? { 'set-cookie': `studio_token=${token}; HttpOnly; SameSite=Strict; Path=/` } : undefined;
    if (pathname.startsWith('/gallery/')) {
      const png = service.gallery.read(pathname.slice('/gallery/'.length));
      if (!png) return send(res, 404, 'not found');
      return send(res, 200, png, 'image/png', { 'cache-control': 'no-cache', 'cross-origin-resource-policy': 'same-origin' });
    }
    const relative = pathname === '/' ? 'index.html' : pathname.slice(1);
    const path = resolve(staticDir, relative);
    if (!path.startsWith(staticDir + sep) || !existsSync(path) || !statSync(path).isFile()) {
      if (!existsSync(join(staticDir, 'index.html'))) return send(res, 503, 'the UI is not built yet: run `npm run build`');
      return send(res, 404, 'not found');
    }
    send(res, 200, readFileSync(path), TYPES[extname(path)] ?? 'application/octet-stream', cookie);
  };
  // Whatever a request runs into (a file gone between its checks and its read), it must not end the process.
  const server = createServer((req, res) => {
    try {
      answer(req, res);
    } catch {
      if (!res.headersSent) send(res, 500, 'the request could not be answered');
      else res.destroy();
    }
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
  });
  server.on('upgrade', (req, socket, head) => {
    const url = requestUrl(req);
    const ours = hostCheck?.hostAllowed(req.headers.host) === true && hostCheck.originAllowed(req.headers.origin);
    if (url?.pathname !== '/ws' || !ours || !authorized(req, url)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const clients = new Set<WebSocket>();
  const unsentLimit = options.maxUnsentBytes ?? MAX_UNSENT_BYTES;
  const sendTo = (ws: WebSocket, text: string): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount + Buffer.byteLength(text) > unsentLimit) {
      clients.delete(ws);
      ws.terminate();
      return;
    }
    ws.send(text);
  };
  const unsubscribe = service.on((event, data) => {
    const message = JSON.stringify({ event, data } satisfies ServerMessage);
    for (const ws of clients) sendTo(ws, message);
  });

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    // Paths on this machine (model.add) only from a client on this machine or one holding the token:
    // with a token every connection holds it; without one the server is bound to loopback.
    const caller = { localPaths: token !== null || isLoopbackAddress(req.socket.remoteAddress) };
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => clients.delete(ws));
    ws.on('message', async (raw) => {
      let id = 0;
      try {
        const bytes = raw as Buffer;
        const tooBig = oversizeProblem(bytes);
        if (tooBig) throw new Error(tooBig);
        let message: unknown;
        try {
          message = JSON.parse(bytes.toString());
        } catch {
          throw new Error('message is not valid JSON');
        }
        if (typeof message !== 'object' || message === null || Array.isArray(message)) throw new Error('message must be an object');
        const candidate = (message as { id?: unknown }).id;
        if (typeof candidate !== 'number' || !Number.isSafeInteger(candidate)) throw new Error('message id must be an integer');
        id = candidate;
        const result = await service.call(
          validateCall((message as { method?: unknown }).method, (message as { params?: unknown }).params),
          caller,
        );
        sendTo(ws, replyText(id, result));
      } catch (error) {
        sendTo(ws, replyText(id, undefined, (error as Error).message));
      }
    });
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolvePromise());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  hostCheck = new HostCheck(allowedHostNames(host, options.allowedHosts), port);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/${token ? `?token=${token}` : ''}`;
  return {
    server,
    url,
    token,
    close: () =>
      new Promise<void>((done) => {
        unsubscribe();
        for (const ws of clients) ws.terminate();
        wss.close();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

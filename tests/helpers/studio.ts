// A running local-mode app for tests: service + engine process + server, and a WebSocket client.
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { EventName, Events, Method, Params, ProviderName, Results } from '../../src-core/contract/api.ts';
import { forkEngine } from '../../electron/engine-process.ts';
import { StudioService } from '../../electron/service.ts';
import { startServer, type RunningServer } from '../../electron/server/server.ts';

export interface Studio {
  service: StudioService;
  server: RunningServer;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StudioOptions {
  model: string;
  dataDir?: string;
  host?: string;
  token?: string;
  staticDir?: string;
  provider?: ProviderName;
  maxUnsentBytes?: number;
}

export async function startStudio(options: StudioOptions): Promise<Studio> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'studio-data-'));
  const service = new StudioService({
    dataDir,
    mode: 'browser',
    spawnEngine: forkEngine,
    galleryUrl: (id) => `/gallery/${id}`,
    initialModel: options.model,
    provider: options.provider ?? 'cpu',
  });
  const server = await startServer({
    service,
    host: options.host,
    token: options.token,
    staticDir: options.staticDir,
    maxUnsentBytes: options.maxUnsentBytes,
  });
  return {
    service,
    server,
    dataDir,
    stop: async () => {
      await server.close();
      service.stop();
    },
  };
}

export class TestClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  readonly events: Array<{ event: EventName; data: any }> = [];
  private waiters: Array<{ match: (e: { event: EventName; data: any }) => boolean; resolve: (e: any) => void }> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if ('event' in m) {
        this.events.push(m);
        this.waiters = this.waiters.filter((w) => (w.match(m) ? (w.resolve(m.data), false) : true));
        return;
      }
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.result);
    });
  }

  static connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      ws.once('open', () => resolve(new TestClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  raw(message: unknown): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, ...(message as object) }));
    });
  }

  /** Sends text as it is (malformed on purpose, or huge) and resolves with the next reply, whatever its id. */
  sendText(text: string): Promise<{ id: number; result?: any; error?: string }> {
    return new Promise((resolve) => {
      const onMessage = (raw: Buffer) => {
        const m = JSON.parse(raw.toString());
        if ('event' in m) return;
        this.ws.off('message', onMessage);
        resolve(m);
      };
      this.ws.on('message', onMessage);
      this.ws.send(text);
    });
  }

  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    return this.raw({ method, params });
  }

  /** The next event of this name (and optional condition), including ones already received after `since`. */
  waitFor<E extends EventName>(event: E, match: (data: Events[E]) => boolean = () => true, timeoutMs = 60_000): Promise<Events[E]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
      timer.unref(); // a waiter that lost a race must not keep the test process alive
      this.waiters.push({
        match: (e) => e.event === event && match(e.data),
        resolve: (d) => {
          clearTimeout(timer);
          resolve(d);
        },
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}

export function wsUrl(server: RunningServer): string {
  const url = new URL(server.url);
  url.protocol = 'ws:';
  url.pathname = '/ws';
  return url.toString();
}

/** A studio (on a model folder, or with these options) and one connected client for the length of `run`, both closed afterwards. */
export async function withStudio(model: string | StudioOptions, run: (studio: Studio, client: TestClient) => Promise<void>): Promise<void> {
  const studio = await startStudio(typeof model === 'string' ? { model } : model);
  const client = await TestClient.connect(wsUrl(studio.server));
  try {
    await run(studio, client);
  } finally {
    client.close();
    await studio.stop();
  }
}

/** A raw GET with any Host header (fetch will not send a foreign Host, as a DNS-rebinding page does). */
export function getWithHost(
  server: RunningServer,
  path: string,
  host: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const base = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path, headers: { host } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

// The fuzzer's attack cases beyond single malformed payloads (issue 14): DNS-rebinding Host/Origin
// pairs over HTTP and WebSocket, hostile PNGs through png.read, key floods and deep nesting as raw
// messages, and valid requests that would need far more memory or work than allowed.
import type { RunningServer } from '../../electron/server/server.ts';
import { hostilePngs } from './hostile-pngs.ts';
import { getWithHost, TestClient, wsUrl } from './studio.ts';

export interface AttackTally {
  sent: number;
  problems: string[];
  slowestMs: number;
}

/** Host/Origin pairs a rebinding page (or a confused client) could send; only our own are let in. */
export async function rebindingAttacks(server: RunningServer, r: () => number, count: number, tally: AttackTally): Promise<void> {
  const port = Number(new URL(server.url).port);
  const foreign = [
    'evil.example',
    `evil.example:${port}`,
    `127.0.0.1.nip.io:${port}`,
    `localhost.evil.example:${port}`,
    `127.0.0.1:${port + 1}`,
    `[::ffff:127.0.0.1]:${port}`,
    `0.0.0.0:${port}`,
    `127.1:${port}`,
    `2130706433:${port}`,
    `LOCALHOST.:${port}`,
    `localhost:${port}@evil.example`,
    ' ',
  ];
  const ours = [`127.0.0.1:${port}`, `localhost:${port}`];
  const paths = ['/', '/index.html', '/gallery/00001-1.png', '/ws', '/assets/x.js'];
  for (let i = 0; i < count; i++) {
    const host = foreign[Math.floor(r() * foreign.length)];
    const path = paths[Math.floor(r() * paths.length)];
    tally.sent++;
    const { status } = await getWithHost(server, path, host);
    if (status !== 421) tally.problems.push(`GET ${path} with Host "${host}" answered ${status}, not 421`);
    // A rebinding page (foreign Host, matching Origin), or a pair where one of the two is foreign.
    const own = ours[Math.floor(r() * ours.length)];
    const pick = r();
    const headers =
      pick < 0.5
        ? { host, origin: `http://${host}` }
        : pick < 0.75
          ? { host: own, origin: `http://${host}` }
          : { host, origin: `http://${own}` };
    tally.sent++;
    try {
      const client = await TestClient.connect(wsUrl(server), headers);
      client.close();
      tally.problems.push(`WebSocket opened with Host "${headers.host}" and Origin "${headers.origin}"`);
    } catch (error) {
      if (!/HTTP 403/.test((error as Error).message))
        tally.problems.push(`WebSocket with Host "${headers.host}": ${(error as Error).message}`);
    }
  }
  // Our own names still work.
  for (const host of ours) {
    tally.sent++;
    const client = await TestClient.connect(wsUrl(server), { host, origin: `http://${host}` });
    client.close();
  }
}

/** Every hostile PNG through png.read: an answer (result or specific error) in bounded time. */
export async function hostilePngAttacks(client: TestClient, tally: AttackTally): Promise<void> {
  for (const png of hostilePngs()) {
    tally.sent++;
    const started = performance.now();
    try {
      const result = await client.call('png.read', { base64: png.bytes.toString('base64') });
      if (result.request.prompt !== undefined && result.request.prompt.length > 20_000)
        tally.problems.push(`png.read ${png.name}: a prompt over the limit reached the form`);
    } catch (error) {
      const message = (error as Error).message;
      if (message.length < 8 || message.length > 2000)
        tally.problems.push(`png.read ${png.name}: unspecific or oversized error (${message.length} characters)`);
    }
    tally.slowestMs = Math.max(tally.slowestMs, performance.now() - started);
  }
}

/** Raw messages: key floods (over and under the size cap) and deep nesting. */
export function floodMessages(r: () => number, id: number): string {
  const kind = r();
  if (kind < 0.4) {
    const depth = 33 + Math.floor(r() * 200_000);
    return `{"id":${id},"method":"job.grid","params":{"base":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
  }
  const keys = 65 + Math.floor(r() * (kind < 0.8 ? 20_000 : 300_000));
  const params: Record<string, number> = { seed: 1 };
  for (let k = 0; k < keys; k++) params[`key${k}`] = k;
  return JSON.stringify({ id, method: r() < 0.5 ? 'job.generate' : 'plan.describe', params });
}

/** A request that is valid in form but far too heavy: huge sizes, batches, counts, steps. */
export function heavyRequest(r: () => number): Record<string, unknown> {
  const side = [1024, 2048, 3072, 4096][Math.floor(r() * 4)];
  return {
    prompt: 'a red circle',
    seed: 1,
    sampler: 'euler',
    width: side,
    height: side,
    batchSize: 1 + Math.floor(r() * 16),
    count: 1 + Math.floor(r() * 100),
    steps: 20 + Math.floor(r() * 480),
  };
}

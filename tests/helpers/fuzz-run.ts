// Shared by the fuzz test (small count, fixed seed) and `npm run fuzz` (full count).
import { hostileMessage, rng } from './fuzz-payloads.ts';
import { floodMessages, heavyRequest, hostilePngAttacks, rebindingAttacks, type AttackTally } from './fuzz-attacks.ts';
import { startStudio, TestClient, wsUrl } from './studio.ts';

export interface FuzzReport {
  sent: number;
  errors: number;
  accepted: number;
  enginePid: { before: number | undefined; after: number | undefined };
  restarts: number;
  problems: string[];
  errorKinds: Record<string, number>;
  /** Rebinding Host/Origin pairs, hostile PNGs: how many were tried, and the slowest png.read. */
  attacks: { sent: number; slowestPngReadMs: number };
  slowestReplyMs: number;
}

/** A reply slower than this is a stall of the server (the quadratic parser took 65 s on one PNG). */
const STALL_MS = 20_000;

export async function runFuzz(options: { count: number; seed: number; model: string }): Promise<FuzzReport> {
  const studio = await startStudio({ model: options.model });
  const client = await TestClient.connect(wsUrl(studio.server));
  const r = rng(options.seed);
  const report: FuzzReport = {
    sent: 0,
    errors: 0,
    accepted: 0,
    enginePid: { before: studio.service.engine.pid, after: undefined },
    restarts: 0,
    problems: [],
    errorKinds: {},
    attacks: { sent: 0, slowestPngReadMs: 0 },
    slowestReplyMs: 0,
  };
  try {
    for (let i = 1; i <= options.count; i++) {
      // Mostly malformed payloads; some key floods and deep nestings, some valid but far too heavy requests.
      const pick = r();
      const heavy = pick < 0.03;
      const message = heavy
        ? JSON.stringify({ id: i, method: 'job.generate', params: heavyRequest(r) })
        : pick < 0.05
          ? floodMessages(r, i)
          : hostileMessage(r, i);
      report.sent++;
      const started = performance.now();
      const reply = await client.sendText(message);
      const elapsed = performance.now() - started;
      report.slowestReplyMs = Math.round(Math.max(report.slowestReplyMs, elapsed));
      if (elapsed > STALL_MS) report.problems.push(`the reply to ${message.slice(0, 120)} took ${(elapsed / 1000).toFixed(1)} s`);
      if (heavy && typeof reply.error !== 'string')
        report.problems.push(`a request far over the memory or work limits was accepted: ${message.slice(0, 200)}`);
      if (typeof reply.error === 'string') {
        report.errors++;
        if (reply.error.length < 8 || /TypeError|Cannot read|is not a function|Maximum call stack|^Error$/.test(reply.error))
          report.problems.push(`unspecific error for ${message.slice(0, 120)}: ${reply.error}`);
        if (reply.error.length > 2000) report.problems.push(`an error of ${reply.error.length} characters for ${message.slice(0, 120)}`);
        const kind = reply.error
          .replace(/[:"].*$/s, '')
          .trim()
          .slice(0, 60);
        report.errorKinds[kind] = (report.errorKinds[kind] ?? 0) + 1;
      } else {
        report.accepted++;
        // A valid generation got queued: cancel it so the run stays about validation.
        if (reply.result?.jobId) await client.call('job.cancel', { jobId: reply.result.jobId });
      }
      if (i % 500 === 0 || i === options.count) {
        const info = await client.call('app.info', {});
        if (!info.model) report.problems.push(`after ${i} payloads the model is gone`);
      }
    }
    const tally: AttackTally = { sent: 0, problems: [], slowestMs: 0 };
    await rebindingAttacks(studio.server, r, Math.max(20, Math.floor(options.count / 50)), tally);
    await hostilePngAttacks(client, tally);
    report.attacks = { sent: tally.sent, slowestPngReadMs: Math.round(tally.slowestMs) };
    report.problems.push(...tally.problems);
    if (tally.slowestMs > STALL_MS) report.problems.push(`a hostile PNG took ${(tally.slowestMs / 1000).toFixed(1)} s in png.read`);
    const done = client.waitFor('job.done', () => true, 120_000);
    await client.call('job.generate', { prompt: 'a red circle on a blue background', seed: 1, steps: 2 });
    if ((await done).entries.length !== 1) report.problems.push('the valid request after the fuzzing did not produce an image');
  } finally {
    report.enginePid.after = studio.service.engine.pid;
    report.restarts = studio.service.engine.restarts;
    if (report.restarts > 0) report.problems.push(`the engine restarted ${report.restarts} time(s)`);
    client.close();
    await studio.stop();
  }
  return report;
}

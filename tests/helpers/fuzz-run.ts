// Shared by the fuzz test (small count, fixed seed) and `npm run fuzz` (full count).
import { hostileMessage, rng } from './fuzz-payloads.ts';
import { startStudio, TestClient, wsUrl } from './studio.ts';

export interface FuzzReport {
  sent: number;
  errors: number;
  accepted: number;
  enginePid: { before: number | undefined; after: number | undefined };
  restarts: number;
  problems: string[];
  errorKinds: Record<string, number>;
}

export async function runFuzz(options: { count: number; seed: number; model: string }): Promise<FuzzReport> {
  const studio = await startStudio({ model: options.model });
  const client = await TestClient.connect(wsUrl(studio.server));
  const r = rng(options.seed);
  const report: FuzzReport = { sent: 0, errors: 0, accepted: 0, enginePid: { before: studio.service.engine.pid, after: undefined }, restarts: 0, problems: [], errorKinds: {} };
  try {
    for (let i = 1; i <= options.count; i++) {
      const message = hostileMessage(r, i);
      report.sent++;
      const reply = await new Promise<any>((resolve) => {
        const onMessage = (raw: Buffer) => {
          const m = JSON.parse(raw.toString());
          if ('event' in m) return;
          client.ws.off('message', onMessage);
          resolve(m);
        };
        client.ws.on('message', onMessage);
        client.ws.send(message);
      });
      if (typeof reply.error === 'string') {
        report.errors++;
        if (reply.error.length < 8 || /TypeError|Cannot read|is not a function|Maximum call stack|^Error$/.test(reply.error)) report.problems.push(`unspecific error for ${message.slice(0, 120)}: ${reply.error}`);
        const kind = reply.error.replace(/[:"].*$/s, '').trim().slice(0, 60);
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

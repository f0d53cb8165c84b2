// The import's progress as the UI shows it (one bar over hashing and writing, an ETA from the current
// phase's rate), and who may add models by path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtaEstimator, overallFraction } from './import-job.ts';
import { ModelManager } from './model-manager.ts';
import { ModelLibrary } from './model-library.ts';
import { isLoopbackAddress } from './server/host-check.ts';

test('one bar: hashing is the first tenth, writing the networks the rest, finishing just short of the end', () => {
  assert.equal(overallFraction({ stage: 'hashing', bytesDone: 50, bytesTotal: 100 }), 0.05);
  assert.equal(overallFraction({ stage: 'reading', bytesDone: 0, bytesTotal: 100 }), 0.1);
  assert.ok(Math.abs(overallFraction({ stage: 'unet', bytesDone: 50, bytesTotal: 100 }) - 0.545) < 1e-12);
  assert.ok(
    overallFraction({ stage: 'vae_encoder', bytesDone: 120, bytesTotal: 100 }) <=
      overallFraction({ stage: 'finishing', bytesDone: 100, bytesTotal: 100 }),
    'alignment bytes past the total do not overshoot',
  );
  assert.equal(overallFraction({ stage: 'unet', bytesDone: 5, bytesTotal: 0 }), 0.1);
});

test("the ETA comes from the writing phase's own rate, none while hashing or before there is a rate", () => {
  const eta = new EtaEstimator();
  assert.equal(eta.update({ stage: 'hashing', bytesDone: 10, bytesTotal: 100 }, 0), null);
  assert.equal(eta.update({ stage: 'hashing', bytesDone: 90, bytesTotal: 100 }, 2000), null);
  assert.equal(eta.update({ stage: 'reading', bytesDone: 0, bytesTotal: 1000 }, 2100), null);
  assert.equal(eta.update({ stage: 'text_encoder', bytesDone: 1, bytesTotal: 1000 }, 2200), null, 'too little done to tell');
  assert.equal(eta.update({ stage: 'unet', bytesDone: 250, bytesTotal: 1000 }, 12_100), 30, '10 s for a quarter: 30 s left');
  assert.equal(eta.update({ stage: 'finishing', bytesDone: 1000, bytesTotal: 1000 }, 40_000), 0);
});

test("paths are taken only from this machine's clients or token holders", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'manager-'));
  const manager = new ModelManager(new ModelLibrary({ dataDir, builtinRoot: join(dataDir, 'none') }), () => undefined);
  await assert.rejects(
    manager.add({ path: '/tmp' }, { localPaths: false }),
    /only from this computer \(a loopback client\) or with the server's token/,
  );
  assert.throws(() => manager.remove('/tmp/x', undefined, { localPaths: false }), /only from this computer/);
  for (const address of ['127.0.0.1', '127.4.5.6', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopbackAddress(address), address);
  for (const address of ['10.0.0.2', '::ffff:10.0.0.2', '128.0.0.1', 'fe80::1', undefined])
    assert.ok(!isLoopbackAddress(address), String(address));
});

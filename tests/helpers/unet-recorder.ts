// A recording stand-in around a real model's UNet session: each call's prompt inputs (the cond and uncond halves of
// encoder_hidden_states, and SDXL's text_embeds) are kept as digests, and the real session still runs, so a test
// sees which prompt states every model evaluation of a whole job got, pixels unchanged.
import { createHash } from 'node:crypto';
import type { StableDiffusionModel } from '../../src-core/model/model.ts';

export interface RecordedCall {
  /** Digests of the halves of a guided call ([uncond x 1, cond x 1]); `cond` alone when unguided. */
  cond: string;
  uncond?: string;
  pooled?: string;
  uncondPooled?: string;
}

type Feeds = Record<string, { data: unknown }>;
type Run = (feeds: Feeds, ...rest: unknown[]) => unknown;

const digest = (values: ArrayBufferView): string =>
  createHash('sha1')
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .digest('hex');

function halves(data: unknown, guided: boolean): [string | undefined, string] {
  const values = data as Float32Array | Uint16Array;
  if (!guided) return [undefined, digest(values)];
  const half = values.length / 2;
  return [digest(values.subarray(0, half)), digest(values.subarray(half))];
}

/** Records every UNet call of `model` (batch 1) until `stop` is called. */
export function recordUnet(model: StableDiffusionModel, guided = true): { calls: RecordedCall[]; stop: () => void } {
  const session = model.unet.session as unknown as { run: Run };
  const own = Object.prototype.hasOwnProperty.call(session, 'run');
  const run = session.run;
  const calls: RecordedCall[] = [];
  session.run = function (this: unknown, feeds: Feeds, ...rest: unknown[]) {
    const [uncond, cond] = halves(feeds.encoder_hidden_states.data, guided);
    const call: RecordedCall = { cond, ...(uncond ? { uncond } : {}) };
    if (feeds.text_embeds) {
      const [uncondPooled, pooled] = halves(feeds.text_embeds.data, guided);
      Object.assign(call, { pooled, ...(uncondPooled ? { uncondPooled } : {}) });
    }
    calls.push(call);
    return run.call(this, feeds, ...rest);
  };
  return {
    calls,
    stop: () => {
      if (own) session.run = run;
      else delete (session as { run?: Run }).run;
    },
  };
}

/** Names each call's `field` by the digests a name was seen with in reference runs (`?` for none). */
export function nameCalls(calls: RecordedCall[], field: keyof RecordedCall, names: Record<string, string | undefined>): string[] {
  const byDigest = new Map(Object.entries(names).map(([name, d]) => [d, name]));
  return calls.map((c) => byDigest.get(c[field]) ?? '?');
}

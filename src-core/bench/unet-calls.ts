// The benchmark's watch on the UNet's session.run: the time from one call's return to the next call of the same
// generate() run, between two of its images too (the engine's work between two UNet calls), and, on request, a
// stand-in for the UNet (pipeline-bench.ts's --unet-stand-in: a wait that leaves the CPU idle, as a UNet on a GPU
// does, then a copy of a recorded output). The wait blocks the main thread, as onnxruntime-node's run does: it runs
// the session on the main thread (in a setImmediate callback) and returns when the device is done, so nothing else
// of the engine's main thread happens during a UNet call.
import * as ort from 'onnxruntime-node';
import type { StableDiffusionModel } from '../model/model.ts';

type Outputs = ort.InferenceSession.ReturnType;

/** Outputs with their values copied (onnxruntime returns fresh tensors at every run). */
export const copyOf = (outputs: Outputs): Outputs =>
  Object.fromEntries(
    Object.entries(outputs).map(([name, t]) => [name, new ort.Tensor(t.type, (t.data as Float32Array | Uint16Array).slice(), t.dims)]),
  );

/**
 * A run's outputs as a stand-in keeps them, on the host: an output the provider kept on the GPU (a sampling run that
 * keeps its latent there, pipeline/device-latents.ts) is read back, and replayed on the GPU as a fresh upload.
 */
interface Recorded {
  outputs: Outputs;
  onDevice: Set<string>;
}

async function record(model: StableDiffusionModel, outputs: Outputs): Promise<Recorded> {
  const onDevice = new Set(Object.keys(outputs).filter((name) => outputs[name].location === 'gpu-buffer'));
  const host: Record<string, ort.Tensor> = { ...outputs };
  for (const name of onDevice) host[name] = await model.deviceTensors!.download(outputs[name]);
  return { outputs: host, onDevice };
}

async function replay(model: StableDiffusionModel, { outputs, onDevice }: Recorded): Promise<Outputs> {
  const copies: Record<string, ort.Tensor> = copyOf(outputs);
  for (const name of onDevice) copies[name] = await model.deviceTensors!.upload(copies[name]);
  return copies;
}

export interface UnetCallWatch {
  /** From now on, calls of a shape already run wait `ms` and return a copy of that shape's last real output
   * (undefined: the real UNet again). */
  standIn(ms: number | undefined): void;
  /** Starts a new run: the next call has no previous one to measure from. */
  newRun(): void;
  /** The run's gaps between a call's return and the next call, in ms. */
  gaps(): number[];
}

export function watchUnetCalls(model: StableDiffusionModel): UnetCallWatch {
  const session = model.unet.session;
  type Fetches = ort.InferenceSession.FetchesType;
  const run = session.run.bind(session) as (feeds: ort.InferenceSession.FeedsType, fetches?: Fetches) => Promise<Outputs>;
  const recorded = new Map<string, Recorded>();
  let standInMs: number | undefined;
  let lastReturn: number | undefined;
  let gaps: number[] = [];
  const blocker = new Int32Array(new SharedArrayBuffer(4));
  const watched = async (feeds: ort.InferenceSession.FeedsType, fetches?: Fetches): Promise<Outputs> => {
    const start = performance.now();
    if (lastReturn !== undefined) gaps.push(start - lastReturn);
    const shape = feeds.sample.dims.join('x');
    let outputs: Outputs;
    const known = recorded.get(shape);
    if (standInMs !== undefined && known) {
      // Preallocated outputs take the values as onnxruntime writes them, during the run; it returns copies.
      for (const [name, tensor] of Object.entries(fetches && !Array.isArray(fetches) ? fetches : {}))
        if (tensor) (tensor.data as Float32Array | Uint16Array).set(known.outputs[name].data as Float32Array | Uint16Array);
      await new Promise((resolve) => setImmediate(resolve));
      Atomics.wait(blocker, 0, 0, standInMs);
      outputs = await replay(model, known);
    } else {
      outputs = await run(feeds, fetches);
      recorded.set(shape, await record(model, outputs));
    }
    lastReturn = performance.now();
    return outputs;
  };
  session.run = watched as typeof session.run;
  return {
    standIn: (ms) => void (standInMs = ms),
    newRun: () => {
      lastReturn = undefined;
      gaps = [];
    },
    gaps: () => gaps,
  };
}

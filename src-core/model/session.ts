// Opening one ONNX component as an InferenceSession, with errors that say which file is wrong and how.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError, ProviderError } from './errors.ts';
import { AUTO_ORDER, providerAvailability } from './providers.ts';

// Failures come back as exceptions with their message (and are explained to the user); onnxruntime's
// own log lines only repeat them in red on the terminal, e.g. a CUDA probe on every start.
ort.env.logLevel = 'fatal';

export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'dml', 'webgpu', 'coreml'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];
export type ProviderChoice = ExecutionProvider | 'auto';

/** Preference order for 'auto', restricted to what this onnxruntime build can load on this platform. */
export function providerCandidates(choice: ProviderChoice): ExecutionProvider[] {
  if (choice !== 'auto') return choice === 'cpu' ? ['cpu'] : [choice, 'cpu'];
  // Providers whose libraries are missing are not tried: trying prints errors nobody can act on.
  const usable = new Set(
    providerAvailability()
      .filter((p) => p.available && !p.notForAuto)
      .map((p) => p.name),
  );
  return [...AUTO_ORDER.filter((p) => usable.has(p)), 'cpu'];
}

/** Why a provider could not be used, in words a user can act on. */
export function explainProviderFailure(provider: ExecutionProvider, message: string): string {
  const first = message.split('\n')[0].slice(0, 200);
  switch (provider) {
    case 'cuda':
      return /shared library|cannot open shared object|libcu|cudnn/i.test(message)
        ? `CUDA is not usable: onnxruntime's CUDA provider or the CUDA 12 runtime / cuDNN 9 libraries it needs are not installed (${first})`
        : `CUDA is not usable: ${first}`;
    case 'webgpu':
      return /adapter/i.test(message)
        ? 'WebGPU is not usable: no GPU adapter was found (a GPU with Vulkan, Metal or D3D12 drivers is needed)'
        : `WebGPU is not usable: ${first}`;
    case 'dml':
      return /backend not found/i.test(message) ? 'DirectML is only available on Windows' : `DirectML is not usable: ${first}`;
    case 'coreml':
      return /backend not found/i.test(message) ? 'Core ML is only available on macOS' : `Core ML is not usable: ${first}`;
    default:
      return first;
  }
}

export interface TensorInfo {
  name: string;
  type: string;
  shape: ReadonlyArray<number | string>;
}

export interface ComponentSession {
  component: string;
  session: ort.InferenceSession;
  inputs: Map<string, TensorInfo>;
  outputs: Map<string, TensorInfo>;
}

function describe(metadata: readonly ort.InferenceSession.ValueMetadata[]): Map<string, TensorInfo> {
  return new Map(
    metadata.map((m) => [
      m.name,
      m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] },
    ]),
  );
}

/** An opened session with its inputs' and outputs' names, types and shapes. */
export function componentSession(component: string, session: ort.InferenceSession): ComponentSession {
  return { component, session, inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
}

/**
 * Where a session's outputs go: the host, or the provider's device (the UNet's, where a sampling run keeps its
 * latent there: pipeline/device-latents.ts).
 */
export type OutputPlace = 'host' | 'device';

export function sessionOptions(provider: ExecutionProvider, outputs: OutputPlace = 'host'): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: [provider], graphOptimizationLevel: 'all' };
  if (outputs === 'device') options.preferredOutputLocation = 'gpu-buffer';
  // DirectML cannot use memory patterns and needs sequential execution.
  if (provider === 'dml') Object.assign(options, { enableMemPattern: false, executionMode: 'sequential' });
  return options;
}

/** Opens `component` from its folder (`folder`, when another graph of it is run: unet_cuda/ for the UNet). */
export async function openComponent(
  dir: string,
  component: string,
  provider: ExecutionProvider,
  folder = component,
  outputs: OutputPlace = 'host',
): Promise<ComponentSession> {
  const path = join(dir, folder, 'model.onnx');
  if (!existsSync(path)) throw new ModelError(component, `${folder}/model.onnx is missing`);
  refuseOutsideLinks(dir, folder);
  if (statSync(path).size === 0) throw new ModelError(component, `${folder}/model.onnx is empty`);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, sessionOptions(provider, outputs));
  } catch (error) {
    const message = (error as Error).message;
    if (provider === 'cpu') throw new ModelError(component, explainLoadError(folder, message));
    // A provider's own graph (unet_cuda/: CUDA-only ops) never loads on the CPU, so the CPU cannot tell what is wrong
    // with it, and loading 1.7 GB to learn that would be wasted: its failure is the provider's.
    if (folder !== component) throw new ProviderError(provider, component, message);
    // The provider's own failures (libraries, adapters) are told apart from a broken file by
    // whether the file loads on the CPU; when it does not, the CPU's reason is the file's problem
    // (the provider's, such as a missing CUDA library, would only mislead).
    const cpuFailure = await cpuLoadFailure(path);
    if (cpuFailure === undefined) throw new ProviderError(provider, component, message);
    throw new ModelError(component, explainLoadError(folder, cpuFailure));
  }
  return componentSession(component, session);
}

/**
 * A component from a rewritten graph held in memory (an fp16 VAE decoder converted to fp32). The file itself
 * was opened with openComponent first, so a failure here is the provider's or the rewrite's.
 */
export async function openComponentBytes(component: string, bytes: Uint8Array, provider: ExecutionProvider): Promise<ComponentSession> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, sessionOptions(provider));
  } catch (error) {
    const message = (error as Error).message;
    if (provider === 'cpu') throw new ModelError(component, `could not load ${component} converted to float32: ${firstLine(message)}`);
    throw new ProviderError(provider, component, message);
  }
  return componentSession(component, session);
}

/** Why the file does not load on the CPU, or undefined when it does. */
async function cpuLoadFailure(path: string): Promise<string | undefined> {
  try {
    const session = await ort.InferenceSession.create(path, sessionOptions('cpu'));
    await session.release();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * A model folder from the internet may hold links to files elsewhere on the machine; every file of a
 * component (the graph and its external weights) must resolve inside the model folder.
 */
export function refuseOutsideLinks(dir: string, component: string): void {
  const root = realpathSync(dir);
  const folder = join(dir, component);
  for (const name of [component, ...readdirSync(folder).map((n) => join(component, n))]) {
    let target: string;
    try {
      target = realpathSync(join(dir, name));
    } catch {
      throw new ModelError(component, `${name} is a broken link`);
    }
    if (target !== root && !target.startsWith(root + sep)) {
      throw new ModelError(component, `${name} points outside the model folder (to ${target}); refusing to load it`);
    }
  }
}

/** Why `folder`/model.onnx did not load, in the user's words (folder: the component's, or unet_cuda/). */
function explainLoadError(folder: string, message: string): string {
  // A truncated weights file: onnxruntime's reason comes after its source path and C++ signature, past firstLine's cut.
  const outOfBounds = /External initializer: [^\n]*/.exec(message);
  if (outOfBounds) {
    return (
      `${folder}/model.onnx refers to external weights that cannot be read whole ` +
      `(truncated weights.pb / model.onnx_data?): ${outOfBounds[0].trim().slice(0, 300)}`
    );
  }
  const external = /(?:external data|model\.onnx_data|weights\.pb)[^\n]*/i.exec(message);
  if (external || /open file|No such file/i.test(message)) {
    return (
      `${folder}/model.onnx refers to external weights that cannot be read ` +
      `(missing or truncated weights.pb / model.onnx_data?): ${firstLine(message)}`
    );
  }
  if (/protobuf|parsing|ModelProto|invalid model|Load model from/i.test(message)) {
    return `${folder}/model.onnx is not a readable ONNX model (truncated or corrupt file?): ${firstLine(message)}`;
  }
  return `could not load ${folder}/model.onnx: ${firstLine(message)}`;
}

/** An error message's first line, at most 300 characters. */
export function firstLine(message: string): string {
  return message.split('\n')[0].slice(0, 300);
}

/** Checks a component has the inputs and outputs a diffusers export has. */
export function requireNames(c: ComponentSession, inputs: readonly string[], outputs: readonly string[]): void {
  for (const name of inputs) {
    if (!c.inputs.has(name)) {
      throw new ModelError(
        c.component,
        `expected an input named "${name}" (as diffusers exports it), found ${[...c.inputs.keys()].map((n) => `"${n}"`).join(', ')}`,
      );
    }
  }
  for (const name of outputs) {
    if (!c.outputs.has(name)) {
      throw new ModelError(
        c.component,
        `expected an output named "${name}" (as diffusers exports it), found ${[...c.outputs.keys()].map((n) => `"${n}"`).join(', ')}`,
      );
    }
  }
}

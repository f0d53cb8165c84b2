// Tensors kept on the GPU for the WebGPU provider. onnxruntime-node hands a WebGPU run's outputs back as GPU buffers
// when asked (`preferredOutputLocation: 'gpu-buffer'`) and takes such tensors as inputs, but it has no call that
// uploads an array or reads one back: a one-node graph (Identity) on the same provider does each. The UNet reads the
// prompt states from the GPU at every step instead of having them copied there at each call, and a sampling run
// keeps its latent there (pipeline/device-latents.ts, with the small graphs it runs, which this class also holds).
// A GPU tensor holds GPU memory until it is disposed (the garbage collector never frees it), and disposing one after
// the provider's last session is released crashes the process: the uploads dispose every tensor they made, and
// the model disposes them before its sessions.
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { Graph, type DType } from '../onnx/graph.ts';
import { sessionOptions, type ExecutionProvider } from './session.ts';

const { onnx } = onnxProto;

/** Providers whose tensors onnxruntime-node can keep on the device between runs. */
const KEEPS_TENSORS: readonly ExecutionProvider[] = ['webgpu'];

/** An Identity graph over one input of this type and rank, every dimension free. */
export function identityModel(type: DType, rank: number): Uint8Array {
  const graph = new Graph(`upload_${type}_${rank}`, 'float32');
  const dims = Array.from({ length: rank }, (_, i) => `d${i}`);
  graph.output('y', graph.op('Identity', [graph.input('x', type, dims)]), type, dims);
  return onnx.ModelProto.encode(graph.toModel([])).finish();
}

export type OutputLocations = Record<string, 'cpu' | 'gpu-buffer'>;

export class DeviceTensors {
  /** The sessions of the small graphs (uploads and downloads per type and rank, step graphs), made at first use. */
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly live = new Set<ort.Tensor>();
  private disposed = false;

  private constructor(private readonly provider: ExecutionProvider) {}

  /** Uploads for a provider that keeps tensors on its device; undefined for the others (their inputs are host arrays). */
  static for(provider: ExecutionProvider): DeviceTensors | undefined {
    return KEEPS_TENSORS.includes(provider) ? new DeviceTensors(provider) : undefined;
  }

  /** A copy of a host tensor on the device, the same type and shape; free() it when it is no longer fed. */
  async upload(tensor: ort.Tensor): Promise<ort.Tensor> {
    const identity = () => identityModel(tensor.type as DType, tensor.dims.length);
    const session = await this.session(`upload/${tensor.type}/${tensor.dims.length}`, identity, { y: 'gpu-buffer' });
    const { y } = await session.run({ x: tensor });
    if (y.location !== 'gpu-buffer') throw new Error(`the ${this.provider} provider returned the upload on the ${y.location}`);
    this.live.add(y);
    return y;
  }

  /** A device tensor's values on the host (the tensor stays on the device, its owner's to dispose). */
  async download(tensor: ort.Tensor): Promise<ort.Tensor> {
    const identity = () => identityModel(tensor.type as DType, tensor.dims.length);
    const session = await this.session(`download/${tensor.type}/${tensor.dims.length}`, identity, { y: 'cpu' });
    return (await session.run({ x: tensor })).y;
  }

  /** The session of a small graph on the provider, `model()` made and opened at the first call for `key`. */
  session(key: string, model: () => Uint8Array, outputs: OutputLocations): Promise<ort.InferenceSession> {
    if (this.disposed) return Promise.reject(new Error('the model was unloaded'));
    let session = this.sessions.get(key);
    if (!session) {
      session = ort.InferenceSession.create(model(), { ...sessionOptions(this.provider), preferredOutputLocation: outputs });
      this.sessions.set(key, session);
      session.catch(() => this.sessions.delete(key)); // a failed creation is tried again by the next call
    }
    return session;
  }

  /** Takes a device tensor a run returned into the ones freed with the model (free() it when done with it). */
  hold(tensor: ort.Tensor): void {
    if (tensor.location !== 'gpu-buffer') throw new Error(`a tensor on the ${tensor.location} is not held on the device`);
    this.live.add(tensor);
  }

  /** Frees a tensor upload() made or hold() took (others are left alone). */
  free(tensor: ort.Tensor): void {
    if (this.live.delete(tensor)) tensor.dispose();
  }

  /** How many uploaded tensors are held (not freed yet). */
  get held(): number {
    return this.live.size;
  }

  /** Frees every tensor still held and closes the sessions; called before the model's own sessions are released. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const tensor of this.live) tensor.dispose();
    this.live.clear();
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(async (s) => (await s.catch(() => undefined))?.release()));
  }
}

// The sessions of a loaded model, some of which can be released and opened again. A LoRA-adapted copy of the UNet
// then takes the base UNet's place in memory instead of sitting beside it (an SD 1.5 UNet holds 3.6 GB on the CPU),
// and reuses the memory the base gave back instead of the kernel's fresh pages; the base comes back when a prompt
// without LoRAs needs it. The ComponentSession objects stay the same (the model and its adapted copies hold them);
// only their `session` is swapped.
import type * as ort from 'onnxruntime-node';
import type { ComponentSession } from './session.ts';

export class ModelSessions {
  private readonly released = new Set<ComponentSession>();
  private disposed = false;

  constructor(
    /** Every open session of the model, released by dispose(). */
    private readonly opened: ComponentSession[],
    /** Those opened from their own file as it is (not the VAE decoder converted to float32), which release() takes. */
    private readonly reopenable: ComponentSession[],
    /** Opens a component's file again as the model first did (same provider and options). */
    private readonly reopen: (component: string) => Promise<ort.InferenceSession>,
  ) {}

  isOpen(c: ComponentSession): boolean {
    return this.opened.includes(c);
  }

  /** Frees a component's session; its ComponentSession must not be run until open() brings it back. */
  async release(c: ComponentSession): Promise<void> {
    if (!this.reopenable.includes(c)) throw new Error(`${c.component} cannot be opened again as it was`);
    if (!this.isOpen(c)) return;
    this.opened.splice(this.opened.indexOf(c), 1);
    this.released.add(c);
    await c.session.release();
  }

  async open(c: ComponentSession): Promise<void> {
    if (!this.released.has(c)) return;
    if (this.disposed) throw new Error(`${c.component}: the model was unloaded`);
    c.session = await this.reopen(c.component);
    this.released.delete(c);
    this.opened.push(c);
  }

  /** A session opened later (the VAE encoder): not reopenable, released by dispose() with the others. */
  async adopt(c: ComponentSession): Promise<void> {
    if (this.disposed) {
      await c.session.release();
      throw new Error(`${c.component}: the model was unloaded`);
    }
    this.opened.push(c);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const open = this.opened.splice(0);
    await Promise.all(open.map((c) => c.session.release()));
  }
}

// The open sessions of a model's components while LoRA sets come and go: the model's own (base) session and the
// adapted ones, at most `keep` of each component at once, the least recently used released first. The base counts
// among them where the model can reopen it (model/reopenable.ts): an adapted UNet then takes the base's place and its
// memory (the base's freed pages make the new session about three times faster to create than fresh ones), and the
// base is opened again when a request needs it. A model that cannot reopen keeps its base beside `keep` adapted ones.
import type { StableDiffusionModel } from '../model/model.ts';
import type { ComponentSession } from '../model/session.ts';

export class SessionSlots {
  /** Adapted sessions by `${component}|${key}`. */
  private readonly adapted = new Map<string, Promise<ComponentSession>>();
  /** When each session (the base's as `${component}|`) was last used. */
  private readonly lastUse = new Map<string, number>();
  private clock = 0;

  constructor(
    private readonly model: StableDiffusionModel,
    private readonly keep: number,
    /** Told of each adapted session released to make room (models built on it must be forgotten). */
    private readonly onRelease: (closed: ComponentSession) => void,
  ) {}

  /** The model's own session of a component, opened again (after making room) where an adapted one took its place. */
  async base(component: string): Promise<ComponentSession> {
    const base = this.baseOf(component);
    const sessions = this.model.sessions;
    if (sessions && !sessions.isOpen(base)) {
      await this.makeRoom(component);
      await sessions.open(base);
    }
    this.lastUse.set(`${component}|`, ++this.clock);
    return base;
  }

  has(component: string, key: string): boolean {
    return this.adapted.has(`${component}|${key}`);
  }

  /** Marks an open adapted session as used now (a remembered set run again). */
  touch(component: string, key: string): void {
    this.lastUse.set(`${component}|${key}`, ++this.clock);
  }

  /** The adapted session of a component for `key`, made by `open` (after making room) when it is not open. */
  async adaptedSession(component: string, key: string, open: () => Promise<ComponentSession>): Promise<ComponentSession> {
    const id = `${component}|${key}`;
    let pending = this.adapted.get(id);
    if (!pending) {
      // Room first, so that memory holds at most `keep` copies of a component (an SD 1.5 UNet is 3.4 GB in fp32),
      // and the new session reuses the memory the old one gave back.
      await this.makeRoom(component);
      pending = open();
      this.adapted.set(id, pending);
      pending.catch(() => this.adapted.delete(id));
    }
    this.lastUse.set(id, ++this.clock);
    return pending;
  }

  /** Releases the adapted sessions (the base's stay as they are: the model releases them). */
  async dispose(): Promise<void> {
    const sessions = [...this.adapted.values()];
    this.adapted.clear();
    await Promise.all(sessions.map((s) => s.then((c) => c.session.release()).catch(() => undefined)));
  }

  private baseOf(component: string): ComponentSession {
    return component === 'unet' ? this.model.unet : this.model.textEncoders.find((p) => p.component === component)!.session;
  }

  /** Leaves room for one more session of a component (jobs run one at a time, so none is in use). */
  private async makeRoom(component: string): Promise<void> {
    const open = [...this.adapted.keys()].filter((id) => id.startsWith(`${component}|`));
    const base = this.baseOf(component);
    if (this.model.sessions?.isOpen(base)) open.push(`${component}|`);
    open.sort((a, b) => (this.lastUse.get(a) ?? 0) - (this.lastUse.get(b) ?? 0));
    for (const id of open.slice(0, Math.max(0, open.length - (this.keep - 1)))) {
      if (id === `${component}|`) {
        await this.model.sessions!.release(base);
        continue;
      }
      const pending = this.adapted.get(id)!;
      this.adapted.delete(id);
      const closed = await pending.catch(() => undefined);
      if (!closed) continue;
      this.onRelease(closed);
      await closed.session.release();
    }
  }
}

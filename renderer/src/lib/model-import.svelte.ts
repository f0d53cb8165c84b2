// The Add model dialog's state: the form, the import in progress and those queued behind it (from the
// import.* events, and from model.importStatus / model.importQueue when the page opens mid-import), its
// error, and removing models. The model list itself stays the Studio's (refreshed here when it changes).
import type { Events } from '../../../src-core/contract/api.ts';
import type { ImportProgressEvent, ModelSummary } from '../../../src-core/contract/models.ts';
import { withContext } from './errors.ts';
import { addRequest, emptyAddForm, type AddModelForm } from './model-labels.ts';
import type { Studio } from './studio.svelte.ts';

export class ModelImport {
  form = $state<AddModelForm>(emptyAddForm());
  /** The import running now (any client may have started it). */
  progress = $state.raw<ImportProgressEvent | null>(null);
  /** Imports waiting for it (stage 'queued'), in the order they will run. */
  waiting = $state.raw<ImportProgressEvent[]>([]);
  /** Set between pressing Add and the server's answer. */
  submitting = $state(false);
  cancelling = $state(false);
  error = $state<string | null>(null);
  /** What the last add or import finished with ("Added …"), and the importer's notes on it. */
  message = $state<string | null>(null);
  notes = $state.raw<string[]>([]);
  #unsubscribe: Array<() => void> = [];

  constructor(private readonly studio: Studio) {}

  /** Only while an add is being checked: another import may be added while one runs (it waits its turn). */
  get busy(): boolean {
    return this.submitting;
  }

  /** Puts a queued import in its place (or takes one out: `stage` not 'queued', or `remove`). */
  #queue(p: ImportProgressEvent, remove = false): void {
    const others = this.waiting.filter((w) => w.importId !== p.importId);
    const next = remove || p.stage !== 'queued' ? others : [...others, p];
    this.waiting = next.sort((a, b) => (a.ahead ?? 0) - (b.ahead ?? 0));
  }

  start(): void {
    const { client } = this.studio;
    this.#unsubscribe.push(
      client.on('import.progress', (p) => {
        this.#queue(p);
        if (p.stage !== 'queued') this.progress = p;
      }),
      client.on('import.done', (d) => void this.#done(d)),
      client.on('import.failed', (f) => this.#failed(f)),
    );
    void client.call('model.importStatus', {}).then(
      (p) => {
        if (p && !this.progress) this.progress = p;
      },
      () => undefined,
    );
    void client.call('model.importQueue', {}).then(
      (queued) => queued.forEach((q) => this.#queue(q)),
      () => undefined,
    );
  }

  stop(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  async #refreshModels(): Promise<void> {
    try {
      this.studio.models = await this.studio.client.call('model.list', {});
    } catch (error) {
      this.error = withContext('Could not refresh the model list', error);
    }
  }

  async #done(done: Events['import.done']): Promise<void> {
    this.waiting = this.waiting.filter((w) => w.importId !== done.importId);
    if (this.progress && this.progress.importId !== done.importId) return;
    this.progress = null;
    this.cancelling = false;
    this.message = `Added ${done.model.name}${done.reused ? ' (imported before: the cached copy is used)' : ''}.`;
    this.notes = done.notes;
    await this.#refreshModels();
  }

  #failed(failed: Events['import.failed']): void {
    const queued = this.waiting.find((w) => w.importId === failed.importId);
    if (queued) {
      // Cancelled while waiting: it never started, and the running import goes on.
      this.#queue(queued, true);
      this.message = `${queued.label} was taken out of the queue; nothing was imported.`;
      return;
    }
    if (this.progress && this.progress.importId !== failed.importId) return;
    this.progress = null;
    this.cancelling = false;
    this.error = failed.cancelled ? null : withContext('Could not import the model', failed.error);
    this.message = failed.cancelled ? 'Import cancelled; nothing was kept.' : null;
    this.notes = [];
  }

  /** model.add with the form: a diffusers-ONNX folder is added at once, anything else is imported. */
  async add(): Promise<void> {
    if (this.busy) return;
    const request = addRequest(this.form);
    if ('error' in request) {
      this.error = request.error;
      return;
    }
    this.error = null;
    this.message = null;
    this.notes = [];
    this.submitting = true;
    try {
      const result = await this.studio.client.call('model.add', request);
      if (result.model) {
        this.message = result.alreadyListed ? `${result.model.name} is already in the list.` : `Added ${result.model.name}.`;
        this.notes = result.notes;
        await this.#refreshModels();
      } else if (result.importId && result.ahead !== undefined) {
        // Waiting for the imports before it; its import.progress events keep its place up to date.
        if (!this.waiting.some((w) => w.importId === result.importId) && this.progress?.importId !== result.importId) {
          this.#queue({ ...this.#firstView(result.importId, request), stage: 'queued', ahead: result.ahead });
        }
        this.notes = result.notes;
      } else if (result.importId && (!this.progress || this.progress.importId !== result.importId)) {
        // Shown at once; the first import.progress event fills in the numbers.
        this.progress = this.#firstView(result.importId, request);
        this.notes = result.notes;
      }
      this.form = { ...emptyAddForm(), precision: this.form.precision };
    } catch (error) {
      this.error = withContext('Could not add the model', error);
    } finally {
      this.submitting = false;
    }
  }

  /** What an import is shown as before its first event. */
  #firstView(importId: string, request: { path: string; label?: string }): ImportProgressEvent {
    const label = request.label ?? request.path;
    return { importId, source: request.path, label, stage: 'hashing', bytesDone: 0, bytesTotal: 0, fraction: 0, etaSeconds: null };
  }

  /** Takes a waiting import out of the queue (import.failed, cancelled, then removes it here). */
  async cancelWaiting(importId: string): Promise<void> {
    try {
      await this.studio.client.call('model.cancelImport', { importId });
    } catch (error) {
      this.error = withContext('Could not cancel the import', error);
    }
  }

  async cancel(): Promise<void> {
    if (!this.progress) return;
    this.cancelling = true;
    try {
      await this.studio.client.call('model.cancelImport', { importId: this.progress.importId });
    } catch (error) {
      this.cancelling = false;
      this.error = withContext('Could not cancel the import', error);
    }
  }

  /** Electron's native dialog into the path field (a file, or a folder). */
  async browse(field: 'path' | 'vae' | 'config', want: 'file' | 'folder'): Promise<void> {
    try {
      const { path } = await this.studio.client.call('model.browse', { want });
      if (path) this.form[field] = path;
    } catch (error) {
      this.error = withContext('Could not open the file dialog', error);
    }
  }

  async remove(model: ModelSummary): Promise<void> {
    this.error = null;
    this.message = null;
    this.notes = [];
    try {
      const { removed, deleted } = await this.studio.client.call('model.remove', { dir: model.dir });
      if (removed) this.message = `Removed ${model.name} from the list${deleted ? ' and deleted its imported copy' : ''}.`;
      await this.#refreshModels();
    } catch (error) {
      this.error = withContext(`Could not remove ${model.name}`, error);
    }
  }
}

// The app's state and actions, shared by the views: what the engine told us (app.info, models,
// gallery), the generate form, the running job, messages. Pure logic lives in the other lib
// modules; this class only wires them to the client and to Svelte's reactivity.
import type { AppInfo, EventName, Events, GalleryEntry, ModelSummary, ParametersImportResult } from '../../../src-core/contract/api.ts';
import type { ConnectionState, StudioClient } from './client.ts';
import { blobToBase64, bytesToBase64 } from './base64.ts';
import { withContext } from './errors.ts';
import { adaptToModel, applyRequest, defaultForm, formToRequest, vaeFactorOf, type FormState } from './form.ts';
import { mergeEntries, removeEntry, sortNewest } from './gallery.ts';
import { IDLE_JOB, isActive, jobAccepted, jobEvent, jobInterrupted, jobRejected, startJob, type JobEvent, type JobState } from './job.ts';
import { isPng, parametersPng } from './png.ts';

export type View = 'generate' | 'gallery';

export const ENGINE_RESTARTING = 'The engine stopped unexpectedly; restarting… your gallery is safe.';
export const CONNECTION_LOST_BANNER = 'Engine connection lost — reconnecting…';

const UNREACHABLE = 'Could not reach the engine';

export class Studio {
  readonly client: StudioClient;
  info = $state.raw<AppInfo | null>(null);
  models = $state.raw<ModelSummary[]>([]);
  form = $state<FormState>(defaultForm());
  job = $state.raw<JobState>(IDLE_JOB);
  gallery = $state.raw<GalleryEntry[]>([]);
  galleryLoaded = $state(false);
  selectedId = $state<string | null>(null);
  view = $state<View>('generate');
  /** The message of the error box (role=alert); null hides it. */
  error = $state<string | null>(null);
  /** What loading parameters from a PNG could not carry over. */
  notes = $state.raw<{ source: string; notes: string[] } | null>(null);
  connection = $state<ConnectionState>('connecting');
  engine = $state.raw<Events['engine.status'] | null>(null);
  lastSeed = $state<number | null>(null);
  /** Set for a few seconds after the engine came back from a crash. */
  engineRecovered = $state(false);
  switchingModel = $state(false);
  #cancelWanted = false;
  #unsubscribe: Array<() => void> = [];

  constructor(client: StudioClient) {
    this.client = client;
  }

  get vaeFactor(): number {
    return vaeFactorOf(this.info);
  }

  get busy(): boolean {
    return isActive(this.job);
  }

  /** Subscribes to events and loads what the views show. */
  start(): void {
    const jobEvents: EventName[] = ['job.progress', 'job.preview', 'job.done', 'job.failed'];
    for (const name of jobEvents) {
      this.#unsubscribe.push(this.client.on(name, (data) => this.#onJobEvent({ name, data } as JobEvent)));
    }
    this.#unsubscribe.push(this.client.on('engine.status', (s) => this.#onEngineStatus(s)));
    this.#unsubscribe.push(this.client.onConnection((state) => this.#onConnection(state)));
    this.connection = this.client.connection();
    void this.refresh(true);
  }

  stop(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  showError(doing: string, error: unknown): void {
    this.error = withContext(doing, error);
  }

  /** app.info, the model list and the gallery (again after a reconnect or an engine restart). */
  async refresh(first = false): Promise<void> {
    const [info, models, gallery] = await Promise.allSettled([
      this.client.call('app.info', {}),
      this.client.call('model.list', {}),
      this.client.call('gallery.list', {}),
    ]);
    if (info.status === 'fulfilled') {
      if (this.error?.startsWith(UNREACHABLE)) this.error = null;
      this.#setInfo(info.value, first);
    } else {
      this.showError(UNREACHABLE, info.reason);
    }
    if (models.status === 'fulfilled') this.models = models.value;
    if (gallery.status === 'fulfilled') {
      this.gallery = sortNewest(gallery.value);
      this.galleryLoaded = true;
    } else if (info.status === 'fulfilled') {
      this.showError('Could not load the gallery', gallery.reason);
    }
  }

  #setInfo(info: AppInfo, first: boolean): void {
    const before = this.info;
    this.info = info;
    if (first && !before) this.form = adaptToModel(this.form, null, info);
    else this.form = adaptToModel(this.form, before, info);
    if (info.modelError) this.error = `The model could not be loaded: ${info.modelError}`;
  }

  async selectModel(dir: string): Promise<void> {
    if (!dir || dir === this.info?.model?.dir) return;
    this.switchingModel = true;
    try {
      const info = await this.client.call('model.select', { dir });
      const before = this.info;
      this.info = info;
      this.form = adaptToModel(this.form, before, info);
      if (info.modelError) this.error = `The model could not be loaded: ${info.modelError}`;
    } catch (error) {
      this.showError('Could not switch the model', error);
    } finally {
      this.switchingModel = false;
    }
  }

  async generate(): Promise<void> {
    if (this.busy) return;
    const checked = formToRequest(this.form, { vaeFactor: this.vaeFactor });
    if (checked.error !== undefined) {
      this.error = `Could not generate: ${checked.error}`;
      return;
    }
    const request = checked.value;
    this.error = null;
    this.notes = null;
    this.lastSeed = request.seed;
    this.#cancelWanted = false;
    this.job = startJob(request.count ?? 1);
    try {
      const { jobId } = await this.client.call('job.generate', request);
      this.#setJob(jobAccepted(this.job, jobId));
      if (this.#cancelWanted && isActive(this.job)) void this.cancel();
    } catch (error) {
      this.#setJob(jobRejected(this.job, withContext('Could not generate', error)));
    }
  }

  async cancel(): Promise<void> {
    if (!this.busy) return;
    const jobId = this.job.jobId;
    if (!jobId) {
      this.#cancelWanted = true;
      return;
    }
    try {
      await this.client.call('job.cancel', { jobId });
    } catch (error) {
      this.showError('Could not cancel', error);
    }
  }

  #setJob(next: JobState): void {
    const before = this.job;
    this.job = next;
    if (next.phase === 'failed' && before.phase !== 'failed' && next.error) {
      this.error = next.error.startsWith('Could not') ? next.error : withContext('Could not generate', next.error);
    }
  }

  #onJobEvent(event: JobEvent): void {
    if (event.name === 'job.done') {
      this.gallery = mergeEntries(this.gallery, event.data.entries);
      if (event.data.jobId === this.job.jobId && event.data.entries.length) this.lastSeed = event.data.entries[0].seed;
    }
    this.#setJob(jobEvent(this.job, event));
  }

  #onEngineStatus(status: Events['engine.status']): void {
    const was = this.engine?.state;
    this.engine = status;
    if (status.state === 'crashed' || status.state === 'restarting') {
      this.engineRecovered = false;
      this.#setJob(jobInterrupted(this.job, 'Could not generate: the engine stopped unexpectedly during generation'));
    } else if (status.state === 'ready' && (was === 'crashed' || was === 'restarting')) {
      this.engineRecovered = true;
      setTimeout(() => (this.engineRecovered = false), 5000);
      void this.refresh();
    }
  }

  #onConnection(state: ConnectionState): void {
    const before = this.connection;
    this.connection = state;
    if (state === 'reconnecting') {
      this.#setJob(jobInterrupted(this.job, 'Could not generate: the connection to the engine was lost; images that were finished will appear in the gallery'));
    } else if (state === 'open' && before === 'reconnecting') {
      // The first connection answers the calls start() queued; later ones need a fresh look.
      void this.refresh();
    }
  }

  /** Puts parameters png.read found into the form and shows its notes. */
  #applyImport(result: ParametersImportResult, source: string): void {
    this.form = applyRequest(this.form, result.request);
    const notes = [...result.notes];
    const current = this.info?.model?.name;
    if (result.model && current && result.model !== current) notes.push(`the image was made with the model "${result.model}"; the current model is "${current}"`);
    this.notes = { source, notes };
    this.error = null;
    this.view = 'generate';
  }

  /** A dropped or picked file. */
  async loadPngFile(file: File): Promise<void> {
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (!isPng(bytes)) throw new Error(`"${file.name}" is not a PNG image`);
      const result = await this.client.call('png.read', { base64: bytesToBase64(bytes) });
      this.#applyImport(result, file.name);
    } catch (error) {
      this.showError('Could not load parameters from the PNG', error);
    }
  }

  /** "Reuse parameters" of a gallery entry: its file's parameters, or its parameters text when the file cannot be fetched. */
  async reuseEntry(entry: GalleryEntry): Promise<void> {
    try {
      let base64: string | null = null;
      try {
        const response = await fetch(entry.url);
        if (response.ok) {
          const blob = await response.blob();
          const head = new Uint8Array(await blob.slice(0, 8).arrayBuffer());
          if (isPng(head)) base64 = await blobToBase64(blob);
        }
      } catch {
        base64 = null;
      }
      base64 ??= bytesToBase64(parametersPng(entry.parameters));
      const result = await this.client.call('png.read', { base64 });
      this.#applyImport(result, `image ${entry.seed}`);
    } catch (error) {
      this.showError('Could not reuse the parameters', error);
    }
  }

  async deleteEntry(entry: GalleryEntry): Promise<boolean> {
    try {
      const { deleted } = await this.client.call('gallery.delete', { id: entry.id });
      this.gallery = removeEntry(this.gallery, entry.id);
      if (this.selectedId === entry.id) this.selectedId = null;
      if (!deleted) this.error = 'Could not delete: the image was already gone';
      return deleted;
    } catch (error) {
      this.showError('Could not delete the image', error);
      return false;
    }
  }

  /** true when the engine showed the file in a file manager (Electron); false in the browser. */
  async revealEntry(entry: GalleryEntry): Promise<boolean> {
    try {
      const { revealed } = await this.client.call('gallery.reveal', { id: entry.id });
      return revealed;
    } catch (error) {
      this.showError('Could not reveal the file', error);
      return false;
    }
  }

  useRandomSeed(): void {
    this.form.seed = -1;
  }

  reuseLastSeed(): void {
    if (this.lastSeed !== null) this.form.seed = this.lastSeed;
  }
}

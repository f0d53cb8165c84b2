// The app's main-side service: every contract method, shared by Electron's IPC handlers and the
// local server. Requests arrive already validated; the engine runs in its own process; the gallery
// lives here, so it survives engine crashes.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ProviderName, AppInfo, EventName, Events, GalleryEntry, Method, Results, ValidCall } from '../src-core/contract/api.ts';
import { imagesOf, NOISE_SOURCE_CHOICES, SCHEDULE_CHOICES } from '../src-core/contract/generate.ts';
import { ActiveJobs, type TrackedJob } from './active-jobs.ts';
import { gridRequests } from '../src-core/experiments/grid.ts';
import type { HostModelInfo, HostProvider } from '../src-core/host/protocol.ts';
import { providerChoices } from './provider-choices.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { APP_VERSION } from '../src-core/pipeline/metadata.ts';
import { readPngOffThread } from './png-read.ts';
import { SAMPLERS } from '../src-core/samplers/index.ts';
import { EngineProcess, type EngineChannel } from './engine-process.ts';
import { Gallery, type StoredEntry } from './gallery.ts';
import { describeFsError, writeFileAtomic } from './atomic-write.ts';
import { InputImages } from './input-images.ts';
import { adapterFolders, listAdapters } from './adapter-folders.ts';
import { missingAdapters } from '../src-core/adapters/png-check.ts';
import { ModelLibrary } from './model-library.ts';
import { ModelManager, type CallerRights } from './model-manager.ts';
import { JobEvents } from './job-events.ts';
import { DataFolderLocked, lockDataFolder, type DataFolderLock } from './data-lock.ts';

export interface ServiceOptions {
  dataDir: string;
  mode: 'electron' | 'browser';
  spawnEngine: () => EngineChannel;
  galleryUrl: (id: string) => string;
  /** Shows a file in the system file manager; absent in browser mode. */
  reveal?: (path: string) => void;
  /** The native open dialog (Electron); absent in browser mode, where the user types a path. */
  pickPath?: (want: 'file' | 'folder') => Promise<string | null>;
  modelsDir?: string;
  initialModel?: string;
  provider?: string;
}

interface Settings {
  modelDirs: string[];
  lastModel?: string;
}

/** The data folder cannot be used (missing permissions, read-only, not a folder): said in words, no stack. */
export class DataFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataFolderError';
  }
}

/** Creates the data folder if needed and proves it writable, before anything is stored there. */
function checkDataFolder(dir: string): void {
  const probe = join(dir, `.write-check-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(probe, 'ok');
    rmSync(probe, { force: true });
  } catch (error) {
    throw new DataFolderError(
      `the data folder ${dir} cannot be used: ${describeFsError(error)}. Choose another one with --data or RESTART_STUDIO_DATA.`,
    );
  }
}

function openGallery(dataDir: string): Gallery {
  try {
    return new Gallery(join(dataDir, 'gallery'));
  } catch (error) {
    throw new DataFolderError(`the gallery in ${dataDir} cannot be opened: ${(error as Error).message}`);
  }
}

/** The data folder for this instance alone (see data-lock.ts); refused in one line when another one has it. */
function lockFolder(dir: string): DataFolderLock {
  try {
    return lockDataFolder(dir);
  } catch (error) {
    if (error instanceof DataFolderLocked) throw new DataFolderError(error.message);
    throw new DataFolderError(`the data folder ${dir} cannot be locked for this instance: ${describeFsError(error)}`);
  }
}

export class StudioService {
  readonly gallery: Gallery;
  readonly engine: EngineProcess;
  /** img2img's source images: uploads, and gallery images by id. */
  readonly inputs: InputImages;
  /** The model list, adding (and importing) models, removing them. */
  readonly models: ModelManager;
  private listeners = new Set<(event: EventName, data: unknown) => void>();
  private readonly active = new ActiveJobs();
  /** The engine's job events as the windows get them; a running grid's or sweep's results so far. */
  private readonly jobEvents: JobEvents;
  private model: HostModelInfo | null = null;
  private modelError: string | null = null;
  private provider: string;
  /** What the engine's onnxruntime can use (asked once: it does not change while the app runs). */
  private providers: HostProvider[] = [];
  private ready: Promise<void>;
  private readonly lock: DataFolderLock;

  constructor(private readonly options: ServiceOptions) {
    checkDataFolder(options.dataDir);
    // Before the gallery opens: it deletes unfinished writes, which may be another instance's.
    this.lock = lockFolder(options.dataDir);
    try {
      this.gallery = openGallery(options.dataDir);
      this.models = new ModelManager(
        new ModelLibrary({ dataDir: options.dataDir, builtinRoot: options.modelsDir ?? resolve(DEFAULT_MODEL_DIR, '..') }),
        (event, data) => this.emit(event, data as Events[typeof event]),
      );
      this.inputs = new InputImages(options.dataDir, this.gallery);
      this.provider = options.provider ?? 'auto';
      this.jobEvents = new JobEvents(
        (event, data) => this.emit(event, data),
        this.gallery,
        (e) => this.toEntry(e),
        (jobId) => void this.engine.request('cancel', { jobId }).catch(() => undefined),
      );
      this.engine = new EngineProcess(
        options.spawnEngine,
        (e) => this.jobEvents.onEngineEvent(e),
        (state, message) => this.emit('engine.status', { state, message }),
        (reloaded) => {
          // app.info always tells what the engine has loaded, also after a restart.
          if ('error' in reloaded) [this.model, this.modelError] = [null, reloaded.error];
          else [this.model, this.modelError] = [reloaded.model, null];
        },
      );
      const settings = this.settings();
      this.adoptPickedFolders(settings);
      const initial = options.initialModel ?? settings.lastModel ?? DEFAULT_MODEL_DIR;
      const providers = this.engine.request('providers', {}).then(
        (p) => {
          this.providers = p;
        },
        () => undefined,
      );
      this.ready = Promise.all([providers, this.loadModel(initial).catch(() => undefined)]).then(() => undefined);
    } catch (error) {
      // A service that does not start must not keep the folder from the next try (an Electron dialog, a test).
      this.lock.release();
      throw error;
    }
  }

  on(listener: (event: EventName, data: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit<E extends EventName>(event: E, data: Events[E]): void {
    this.active.onEvent(event, data);
    for (const l of this.listeners) l(event, data);
  }

  private settingsPath(): string {
    return join(this.options.dataDir, 'settings.json');
  }

  private settings(): Settings {
    try {
      const s = JSON.parse(readFileSync(this.settingsPath(), 'utf8'));
      return {
        modelDirs: Array.isArray(s.modelDirs) ? s.modelDirs.filter((d: unknown) => typeof d === 'string') : [],
        lastModel: typeof s.lastModel === 'string' ? s.lastModel : undefined,
      };
    } catch {
      return { modelDirs: [] };
    }
  }

  private saveSettings(settings: Settings): void {
    writeFileAtomic(this.settingsPath(), JSON.stringify(settings, null, 2));
  }

  /** Folders picked by path before models.json existed (settings' modelDirs) move to the model list, once. */
  private adoptPickedFolders(settings: Settings): void {
    if (settings.modelDirs.length === 0) return;
    try {
      for (const dir of settings.modelDirs) this.rememberFolder(dir);
      this.saveSettings({ modelDirs: [], lastModel: settings.lastModel });
    } catch {
      // Tried again at the next start.
    }
  }

  /** A diffusers-ONNX folder picked by path joins the list (in place), as before models.json. */
  private rememberFolder(dir: string): void {
    if (!this.models.library.has(dir)) {
      try {
        this.models.library.add({ dir: resolve(dir), label: basename(dir), kind: 'diffusers-onnx' });
      } catch {
        /* not a model folder (any more) */
      }
    }
  }

  /**
   * A failed load leaves the engine on its previous model: app.info keeps that one, and modelError says
   * only why there is none (a failed switch is the caller's error, told once, not at every page load).
   */
  private async loadModel(dir: string, provider = this.provider): Promise<void> {
    try {
      this.model = await this.engine.request('load', { dir: resolve(dir), provider, adapters: adapterFolders(this.options.dataDir) });
      this.provider = provider;
      this.modelError = null;
    } catch (error) {
      if (!this.model) this.modelError = (error as Error).message;
      throw error;
    }
  }

  /** model.select's error: which model failed, why, and what is still loaded. */
  private switchFailed(dir: string, error: unknown): Error {
    const name = this.models.library.find(dir)?.name ?? basename(dir);
    const now = this.model ? `still using ${this.model.name}` : 'no model is loaded';
    return new Error(`could not switch to ${name}: ${(error as Error).message}; ${now}`);
  }

  /** A job under a new id, known as active from before the engine is asked until its last event. */
  private async startJob(job: (jobId: string) => TrackedJob, queue: (jobId: string) => Promise<unknown>): Promise<{ jobId: string }> {
    const jobId = randomUUID();
    this.active.add(job(jobId));
    try {
      await queue(jobId);
    } catch (error) {
      this.active.drop(jobId);
      throw error;
    }
    return { jobId };
  }

  private toEntry(e: StoredEntry): GalleryEntry {
    return { ...e, url: this.options.galleryUrl(e.id) };
  }

  /** An img2img source's bytes, which travel to the engine beside the request. */
  private sourceOf(ref: string | undefined): { initImage?: Uint8Array } {
    return ref ? { initImage: this.inputs.bytes(ref) } : {};
  }

  private info(): AppInfo {
    return {
      version: APP_VERSION,
      mode: this.options.mode,
      model: this.model
        ? {
            dir: this.model.dir,
            name: this.model.name,
            width: this.model.width,
            height: this.model.height,
            prediction: this.model.prediction,
            vaeFactor: this.model.vaeFactor,
            sizeMultiple: this.model.sizeMultiple,
            maxTokens: this.model.maxTokens,
            family: this.model.family,
          }
        : null,
      modelError: this.modelError,
      provider: this.model?.provider ?? this.provider,
      providerNotes: this.model?.providerNotes ?? [],
      providerChoice: this.provider as ProviderName,
      providers: providerChoices(this.providers),
      samplers: Object.entries(SAMPLERS).map(([name, def]) => ({ name, label: def.label })),
      schedules: [...SCHEDULE_CHOICES],
      noiseSources: [...NOISE_SOURCE_CHOICES],
    };
  }

  /**
   * Runs one validated contract call (validateCall's result, whole). `caller`: what the client may do;
   * the local server says it for each connection, Electron's own window may do everything.
   */
  async call<C extends ValidCall>(call: C, caller: CallerRights = { localPaths: true }): Promise<Results[C['method']]> {
    await this.ready;
    return this.dispatch(call, caller) as Promise<Results[C['method']]>;
  }

  private async dispatch(call: ValidCall, caller: CallerRights): Promise<Results[Method]> {
    switch (call.method) {
      case 'app.info':
        return this.info();
      case 'model.list':
        return this.models.list();
      case 'model.add':
        return this.models.add(call.params, caller);
      case 'model.cancelImport':
        return this.models.cancel(call.params.importId);
      case 'model.importStatus':
        return this.models.status();
      case 'model.importQueue':
        return this.models.queue();
      case 'model.remove':
        return this.models.remove(call.params.dir, this.model?.dir, caller);
      case 'model.browse':
        return { path: this.options.pickPath ? await this.options.pickPath(call.params.want) : null };
      case 'model.select': {
        // Settings first: if they cannot be written (read-only folder) nothing switches; if the load
        // then fails, the previous settings are put back. Either way app.info matches the engine.
        const before = this.settings();
        const { params } = call;
        const dir = resolve(params.dir);
        try {
          this.saveSettings({ ...before, lastModel: dir });
        } catch (error) {
          throw new Error(`the model was not switched: the settings cannot be saved (${describeFsError(error)})`);
        }
        try {
          await this.loadModel(dir, params.provider ?? this.provider);
        } catch (error) {
          try {
            this.saveSettings(before);
          } catch {
            /* the load error is the one to report */
          }
          throw this.switchFailed(dir, error);
        }
        this.rememberFolder(dir);
        return this.info();
      }
      case 'prompt.count':
        return this.engine.request('count', call.params);
      case 'plan.describe':
        return this.engine.request('plan', call.params);
      case 'job.generate':
        return this.startJob(
          (jobId) => ({ jobId, kind: 'generate', images: imagesOf(call.params) }),
          (jobId) => this.engine.request('generate', { jobId, request: call.params, ...this.sourceOf(call.params.initImage) }),
        );
      case 'job.grid':
        return this.startJob(
          (jobId) => ({ jobId, kind: 'grid', request: call.params, total: gridRequests(call.params).length }),
          (jobId) => this.engine.request('grid', { jobId, request: call.params, ...this.sourceOf(call.params.base.initImage) }),
        );
      case 'job.sweep': {
        const total = call.params.samplers.length * call.params.cfgScales.length;
        return this.startJob(
          (jobId) => ({ jobId, kind: 'sweep', request: call.params, total }),
          (jobId) => this.engine.request('sweep', { jobId, request: call.params }),
        );
      }
      case 'job.active':
        return this.active.list((jobId) => this.jobEvents.resultsOf(jobId));
      case 'job.cancel':
        return this.engine.request('cancel', call.params);
      case 'gallery.list': {
        const { offset = 0, limit } = call.params;
        return this.gallery
          .list()
          .slice(offset, limit === undefined ? undefined : offset + limit)
          .map((e) => this.toEntry(e));
      }
      case 'gallery.delete':
        return { deleted: this.gallery.delete(call.params.id) };
      case 'gallery.reveal': {
        const file = this.gallery.file(call.params.id);
        if (!file || !this.options.reveal) return { revealed: false };
        this.options.reveal(file);
        return { revealed: true };
      }
      case 'image.upload':
        return this.inputs.upload(Buffer.from(call.params.base64, 'base64'));
      case 'adapters.list':
        return listAdapters(this.options.dataDir);
      case 'png.read': {
        // Read in a worker thread with caps and a deadline: a hostile file cannot stall the server.
        const read = await readPngOffThread(Buffer.from(call.params.base64, 'base64'));
        // The LoRAs and embeddings the image used that this app does not have.
        return { ...read, notes: [...read.notes, ...missingAdapters(read, adapterFolders(this.options.dataDir))] };
      }
    }
  }

  stop(): void {
    this.models.stop();
    this.engine.stop();
    this.lock.release();
  }
}

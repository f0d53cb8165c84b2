// `npm run serve` / `npm start` without Electron: the app in local mode, in your browser.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringOptions } from '../../src-core/cli/string-options.ts';
import { DataFolderError, StudioService } from '../service.ts';
import { forkEngine } from '../engine-process.ts';
import { startServer } from './server.ts';

export function defaultDataDir(): string {
  if (process.env.RESTART_STUDIO_DATA) return process.env.RESTART_STUDIO_DATA;
  const base = process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share');
  return join(base, 'restart-studio');
}

const { values } = parseArgs({
  options: {
    ...stringOptions('host', 'port', 'model', 'provider', 'data', 'reason'),
    'allowed-host': { type: 'string', multiple: true },
  },
});
const dataDir = values.data ?? defaultDataDir();
let service: StudioService;
try {
  service = new StudioService({
    dataDir,
    mode: 'browser',
    spawnEngine: forkEngine,
    galleryUrl: (id) => `/gallery/${id}`,
    initialModel: values.model,
    provider: values.provider,
  });
} catch (error) {
  if (!(error instanceof DataFolderError)) throw error;
  console.error(`Restart Studio cannot start: ${error.message}`);
  process.exit(1);
}
const running = await startServer({
  service,
  host: values.host,
  port: values.port ? Number(values.port) : 7870,
  allowedHosts: values['allowed-host'],
});
if (values.reason) console.log(values.reason);
console.log(`Restart Studio is running at ${running.url}`);
console.log(`gallery and settings: ${dataDir}`);
const stop = async () => {
  await running.close();
  service.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// npm start: the desktop app when the Electron binary is installed; otherwise the same UI served
// locally in the browser, with the reason printed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const run = (command, args) => {
  const result = spawnSync(command, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
if (!existsSync('renderer/dist/index.html')) run(npm, ['run', 'build:renderer']);

function electronBinary() {
  const pathFile = join('node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile))
    return { reason: 'the Electron binary is not installed (its download needs github.com, which this machine cannot reach)' };
  const binary = join('node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? { binary } : { reason: `the Electron binary is missing (${binary})` };
}

const electron = electronBinary();
const extra = process.argv.slice(2);
if (electron.binary) {
  run(npm, ['run', 'build:electron']);
  const child = spawn(electron.binary, ['out/main.cjs', ...extra], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const reason = `Desktop window unavailable: ${electron.reason}. Starting the local mode instead; open the URL below in your browser.`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'electron/server/main.ts', '--reason', reason, ...extra], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
}

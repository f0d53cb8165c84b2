// Runs after `npm install`. npm 11 blocks the install scripts of electron and onnxruntime-node
// (package.json "allowScripts"), because both download binaries and fail offline. Here we run both
// downloads ourselves and only warn when they fail: offline, `npm start` serves the same UI in the
// browser instead of a window, and the engine runs on CPU (and WebGPU where an adapter exists).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const electronInstaller = 'node_modules/electron/install.js';
if (existsSync(electronInstaller) && !existsSync('node_modules/electron/path.txt')) {
  const result = spawnSync(process.execPath, [electronInstaller], { stdio: 'pipe', timeout: 120_000, encoding: 'utf8' });
  if (result.status === 0 && existsSync('node_modules/electron/path.txt')) {
    console.log('postinstall: Electron binary installed');
  } else {
    const lines = (result.stderr || result.stdout || result.error?.message || '').trim().split('\n');
    const reason = (lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1]).trim();
    console.warn(
      `postinstall: the Electron binary could not be downloaded (${reason || 'no network?'}); ` +
        '`npm start` will serve the app in your browser instead.',
    );
  }
}

// onnxruntime-node's CUDA execution provider libraries (Linux x64) come from its own install step,
// which downloads them from NuGet. Set RESTART_STUDIO_SKIP_CUDA=1 to skip.
const ortDir = 'node_modules/onnxruntime-node';
const cudaProvider = `${ortDir}/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so`;
if (
  process.platform === 'linux' &&
  process.arch === 'x64' &&
  existsSync(`${ortDir}/script/install.js`) &&
  !existsSync(cudaProvider) &&
  !process.env.RESTART_STUDIO_SKIP_CUDA
) {
  const result = spawnSync(process.execPath, ['script/install.js', '--onnxruntime-node-install=cuda12'], {
    cwd: ortDir,
    stdio: 'pipe',
    timeout: 300_000,
    encoding: 'utf8',
  });
  if (result.status === 0 && existsSync(cudaProvider)) {
    console.log('postinstall: onnxruntime CUDA provider installed (needs the CUDA 12 runtime and cuDNN 9 at run time)');
  } else {
    const lines = (result.stderr || result.stdout || result.error?.message || '').trim().split('\n');
    const reason = (lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? '').trim().slice(0, 200);
    console.warn(
      `postinstall: onnxruntime's CUDA provider could not be downloaded (${reason || 'no network?'}); the engine will use CPU or WebGPU.`,
    );
  }
}

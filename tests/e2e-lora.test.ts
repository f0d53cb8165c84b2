// The LoRA and embedding browser in a real browser (issue 20): the app on the importer's tiny SD 1 model with the
// fixture LoRAs and embeddings in its data folder; the browser lists them (name, base model, size), a click puts
// <lora:name:1> at the cursor in the prompt (an embedding's name into the field that had the focus), and the image
// made with it carries "Lora hashes" and "TI hashes"; an unknown LoRA is refused with close matches. A LoRA whose file
// names another model family than the loaded model's is marked in the list, and so is an embedding whose widths do.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importModel } from '../src-core/import/importer.ts';
import { SCREENSHOTS } from './helpers/browser.ts';
import { e2eApp, fillFields } from './helpers/e2e-app.ts';
import { writeSafetensors } from './helpers/safetensors-writer.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const work = mkdtempSync(join(tmpdir(), 'lora-e2e-'));
const dataDir = join(work, 'data');
cpSync(join(FIXTURES, 'lora', 'loras'), join(dataDir, 'loras'), { recursive: true });
cpSync(join(FIXTURES, 'lora', 'embeddings'), join(dataDir, 'embeddings'), { recursive: true });
copyFileSync(join(FIXTURES, 'lora', 'loras-sdxl', 'sdxl-kohya.safetensors'), join(dataDir, 'loras', 'sdxl-kohya.safetensors'));
// Embeddings whose widths name a family: SDXL's pair, and 768-wide vectors (SD 1's text encoder).
copyFileSync(join(FIXTURES, 'lora', 'embeddings-sdxl', 'xyzemb.safetensors'), join(dataDir, 'embeddings', 'sdxl-emb.safetensors'));
writeSafetensors(join(dataDir, 'embeddings', 'wide768.safetensors'), { emb_params: { shape: [1, 768] } });
const modelDir = join(work, 'sd1');
await importModel(join(FIXTURES, 'import', 'sd1', 'diffusers'), { out: modelDir });
// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ model: modelDir, dataDir, staticDir: process.env.E2E_STATIC });
// Registered after e2eApp's own after() (browser and app stopped first: hooks run in the order they were added).
after(() => rmSync(work, { recursive: true, force: true }));

test('the browser lists LoRAs and embeddings and puts them where the cursor is; the PNG names them', async () => {
  const page = await app.open();
  const prompt = page.getByLabel('Prompt', { exact: true });
  await prompt.fill('a red circle on a blue background');
  await prompt.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(12, 12)); // after "a red circle"
  await page.getByText('LoRAs and embeddings', { exact: true }).click();
  const loras = page.getByRole('list', { name: 'LoRAs' });
  await loras.getByRole('button', { name: 'sd1-kohya', exact: true }).waitFor();
  const row = loras.locator('li').filter({ has: page.getByRole('button', { name: 'sd1-kohya', exact: true }) });
  assert.match((await row.textContent()) ?? '', /^sd1-kohya\s*SD 1 · 159 KB$/);
  await loras.getByRole('button', { name: 'sd1-kohya', exact: true }).click();
  assert.equal(await prompt.inputValue(), 'a red circle <lora:sd1-kohya:1> on a blue background');

  const negative = page.getByLabel('Negative prompt', { exact: true });
  await negative.fill('blurry,');
  await negative.focus();
  await page.getByRole('list', { name: 'Embeddings' }).getByRole('button', { name: 'xyzemb', exact: true }).click();
  assert.equal(await negative.inputValue(), 'blurry, xyzemb');
  await page.getByLabel('Filter', { exact: true }).fill('peft');
  assert.deepEqual(await loras.getByRole('button').allTextContents(), ['sd1-peft']);
  await page.screenshot({ path: join(SCREENSHOTS, 'lora-browser.png'), fullPage: true });

  await fillFields(page, { Seed: '3', Steps: '4' });
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.waitForFunction(() => /Lora hashes/.test(document.querySelector('[aria-label="Parameters"]')?.textContent ?? ''), undefined, {
    timeout: 60_000,
  });
  const text = (await page.locator('[aria-label="Parameters"]').first().textContent()) ?? '';
  assert.match(text, /a red circle <lora:sd1-kohya:1> on a blue background/);
  assert.match(text, /Lora hashes: "sd1-kohya: [0-9a-f]{12}", TI hashes: "xyzemb: [0-9a-f]{12}"/);

  // The counter counts the embedding as its 2 vectors (the tiny tokenizer reads "xyzemb" as 5 tokens), the tag as none.
  await prompt.fill('xyzemb <lora:sd1-kohya:1>');
  await page
    .locator('#prompt-tokens')
    .filter({ hasText: /^2\/75$/ })
    .waitFor();

  await prompt.fill('a cat <lora:sd1-kohay:1>');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page
    .getByText(/unknown LoRA "sd1-kohay" in .*close matches: sd1-kohya/)
    .first()
    .waitFor({ timeout: 30_000 });
});

test("a LoRA made for another model family (SDXL, on an SD 1 model) is marked in the list; the model's own are not", async () => {
  const page = await app.open();
  await page.getByText('LoRAs and embeddings', { exact: true }).click();
  const loras = page.getByRole('list', { name: 'LoRAs' });
  const row = (name: string) => loras.locator('li').filter({ has: page.getByRole('button', { name, exact: true }) });
  await row('sdxl-kohya').waitFor();
  assert.match(
    (await row('sdxl-kohya').textContent()) ?? '',
    /^sdxl-kohya\s*SDXL · 243 KB\s*not for this SD 1 or SD 2 model: most of it would not apply$/,
  );
  assert.match((await row('sd1-kohya').textContent()) ?? '', /^sd1-kohya\s*SD 1 · 159 KB$/);
  // Embeddings: the family their widths tell, marked where it is not the model's.
  const embeddings = page.getByRole('list', { name: 'Embeddings' });
  const embeddingRow = (name: string) => embeddings.locator('li').filter({ has: page.getByRole('button', { name, exact: true }) });
  assert.match(
    (await embeddingRow('sdxl-emb').textContent()) ?? '',
    /^sdxl-emb\s*SDXL · \d+ bytes\s*not for this SD 1 or SD 2 model: its name would be read as text$/,
  );
  assert.match((await embeddingRow('wide768').textContent()) ?? '', /^wide768\s*SD 1 · [\d.]+ KB$/);
  assert.match((await embeddingRow('xyzemb').textContent()) ?? '', /^xyzemb\s*\d+ bytes$/);
  await page.close();
});

// `robustok serve` in a real headless browser: Debian's
// Chromium driven by playwright-core. The page lists the runs with their
// curves; in the tokenizer lab an uploaded image is reconstructed, and
// moving the α slider changes the perturbed reconstruction while the clean
// one stays; hovering a token names its nearest codes, clicking it swaps
// it; the generator lab samples. Screenshots of each page go to
// test-output/serve/ (docs/images/ holds copies for the README).
//
// Skipped, saying why, only when no Chromium is installed: scripts/setup.mjs
// installs Debian's chromium when run as root (as CI does), so there it runs.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { startServer } from '../src/server/index.js';
import { makeServeRuns } from './helpers/serve.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const chromiumPath = process.env.ROBUSTOK_CHROMIUM ?? '/usr/bin/chromium';
const out = path.join(root, 'test-output', 'serve');
const noBrowser = existsSync(chromiumPath) ? false
  : `no Chromium at ${chromiumPath}: run scripts/setup.mjs as root (it installs Debian's chromium) or apt-get install chromium, or set ROBUSTOK_CHROMIUM`;

/**
 * Flags the probe of this machine found necessary: without the background
 * networking switches Chromium's own connections (updates, sync) get refused
 * in bursts; --no-sandbox because CI runs as root.
 */
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('the page in Chromium: runs and curves, the tokenizer lab with an upload and the α slider, the generator lab', { skip: noBrowser, timeout: 120_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const runs = await makeServeRuns();
  const server = await startServer({ runs: runs.root, port: 0 });
  const profile = mkdtempSync(path.join(os.tmpdir(), 'robustok-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args: chromiumArgs, viewport: { width: 1280, height: 900 } });
  mkdirSync(out, { recursive: true });
  try {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(server.url);

    // Runs: every run listed; the first tokenizer's curves drawn.
    await page.locator('#runs-list li[data-run="tok"]').waitFor();
    const listed = await page.locator('#runs-list li').evaluateAll((items) => items.map((li) => li.getAttribute('data-run')));
    assert.deepEqual(listed, ['gen', 'post', 'repro', 'repro/tokenizer/base-s0', 'tok', 'tok-random']);
    await page.locator('#runs-list li[data-run="tok"]').click();
    await page.locator('#run-detail svg.chart[data-metric="loss"]').waitFor();
    assert.ok(await page.locator('#run-detail svg.chart').count() >= 5, 'a chart per logged metric');
    await page.locator('#run-detail img.grid').first().waitFor();
    await page.screenshot({ path: path.join(out, 'runs.png'), fullPage: true });

    // Tokenizer lab: it opens on the first tokenizer, the post-trained one; then the trained one, an upload, and α.
    await page.locator('[data-tab="tokenizer-lab"]').click();
    await page.locator('.panel[data-run="post"] #img-clean-0').waitFor();
    await page.locator('#tok-a').selectOption('tok');
    await page.locator('.panel[data-run="tok"] #img-clean-0').waitFor();
    const picture = path.join(profile, 'upload.png');
    const pixels = Buffer.alloc(64 * 64 * 3, 255);
    for (let y = 12; y < 52; y++) for (let x = 20; x < 44; x++) pixels.fill(40, 3 * (64 * y + x), 3 * (64 * y + x) + 3);  // a dark coat-like block
    await sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(picture);
    const source = (id: string) => page.locator(id).getAttribute('src');
    // Predicates run in the page, written as text (this file is compiled without the DOM's types).
    const sourceChanges = (id: string, old: string | null) => page.waitForFunction(`document.querySelector('${id}')?.getAttribute('src') !== ${JSON.stringify(old)}`);
    const before = await source('#img-clean-0');
    await page.locator('#upload').setInputFiles(picture);
    await sourceChanges('#img-clean-0', before);
    assert.match(await page.locator('#image-source').innerText(), /uploaded: upload\.png/);
    const clean = await source('#img-clean-0');
    const perturbed = await source('#img-perturbed-0');
    assert.equal(perturbed, clean, 'at α = 0 the perturbed tokens are the clean ones');

    await page.locator('#alpha').fill('0.8');
    await sourceChanges('#img-perturbed-0', perturbed);
    assert.notEqual(await source('#img-perturbed-0'), perturbed, 'moving α changes the perturbed reconstruction');
    assert.equal(await source('#img-clean-0'), clean, 'and leaves the clean one as it was');
    assert.ok(await page.locator('#lab-panels .token.changed').count() > 0, 'changed tokens are marked in the grid');

    // Hover names the nearest codes; a click swaps the token.
    await page.locator('.panel[data-run="tok"] .token').nth(40).hover();
    await page.waitForFunction(String.raw`/nearest codes of \d+ by cosine: \d+ \(/.test(document.querySelector('#token-info')?.textContent ?? '')`);
    const swapped = await source('#img-perturbed-0');
    await page.locator('.panel[data-run="tok"] .token').nth(40).click();
    await page.locator('.panel[data-run="tok"] .token.clicked').waitFor();
    assert.notEqual(await source('#img-perturbed-0'), swapped);

    // Side by side: a second tokenizer on the same image and draw.
    await page.locator('#tok-b').selectOption('tok-random');
    await page.locator('#img-perturbed-1').waitFor();
    await page.locator('#tok-b').selectOption('post');  // before and after post-training, the same draw
    await page.locator('.panel[data-run="post"] #img-perturbed-1').waitFor();
    await page.screenshot({ path: path.join(out, 'tokenizer-lab.png'), fullPage: true });

    // Generator lab: the σ-preserving preview is there on opening; a sample; σ moved.
    await page.locator('[data-tab="generator-lab"]').click();
    await page.locator('#gen-preserved img').first().waitFor();
    await page.locator('#gen-decoder-b').selectOption('tok');
    await page.locator('#sample-button').click();
    await page.locator('#gen-samples img').nth(1).waitFor();
    await page.locator('#sigma').fill('0.5');
    await page.locator('#gen-preserved img').first().waitFor();
    await page.screenshot({ path: path.join(out, 'generator-lab.png'), fullPage: true });
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  } finally {
    await context.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

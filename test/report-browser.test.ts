// The quick spec's report in a real browser (Debian's chromium through
// playwright-core): it opens from a file:// URL with no network request and
// no console error, every chart has at least one data mark, and a
// screenshot is written to build/report-quick.png.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolGate } from './tool-gate.ts';

const CHROMIUM = '/usr/bin/chromium';
const gate = toolGate(existsSync(CHROMIUM) ? null : `${CHROMIUM} missing (Debian package chromium)`);
const SCREENSHOT = 'build/report-quick.png';

describe.skipIf(gate.skip)(`the quick spec's report in Chromium${gate.note}`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'microsplit-report-'));
  beforeAll(() => gate.check());
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('opens from file:// without network or console errors, every chart with data marks', async () => {
    const out = join(tmp, 'quick');
    // Asynchronous, so the test worker stays responsive while the sweep runs.
    const sweep = spawn(process.execPath, ['bin/microsplit.js', 'experiment', 'examples/experiments/quick.json', '--out', out, '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    sweep.stderr.on('data', (d: Buffer) => (stderr += d));
    const status = await new Promise<number | null>((r) => sweep.on('close', r));
    expect(status, stderr).toBe(0);

    const { chromium } = await import('playwright-core');
    const context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => !r.url().startsWith('file:') && requests.push(r.url()));
      await page.goto(pathToFileURL(resolve(out, 'report.html')).href, { waitUntil: 'load' });

      const figures = await page.$$eval('figure', (figs) =>
        figs.map((f) => ({
          id: f.getAttribute('data-chart'),
          drawn: f.classList.contains('chart'),
          // Vega draws data marks in groups of class role-mark (axes, legends and titles have roles of their own).
          marks: f.querySelectorAll('svg g.role-mark > path, svg g.role-mark > line, svg g.role-mark > rect, svg g.role-mark > circle, svg g.role-mark > g').length,
        })),
      );
      mkdirSync('build', { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      expect(figures.length).toBe(12);
      for (const f of figures) {
        expect(f.drawn, `chart ${f.id} was not drawn`).toBe(true);
        expect(f.marks, `chart ${f.id} has no data mark`).toBeGreaterThan(0);
      }
      expect(existsSync(SCREENSHOT)).toBe(true);
    } finally {
      await context.close();
    }
  }, 600_000);
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

test('the committed dist/ is what the sources build to', () => {
  const out = mkdtempSync(join(tmpdir(), 'iw-build-'));
  try {
    execFileSync(process.execPath, ['build.mjs', '--outdir', out], { cwd: root, stdio: 'pipe' });
    const files = readdirSync(out).sort();
    assert.deepEqual(readdirSync(dist).sort(), files);
    for (const f of files) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(dist, f))), `dist/${f} is stale: run npm run build`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the script is within its 3,072 byte gzip budget', () => {
  assert.ok(gzipSync(readFileSync(join(dist, 'inferwatch.min.js')), { level: 9 }).length <= 3072);
});

test('the Python package serves the same build', () => {
  const stat = join(root, '../python_sdk/inferwatch/_static');
  for (const f of ['inferwatch.min.js', 'inferwatch.min.js.map'])
    assert.ok(readFileSync(join(stat, f)).equals(readFileSync(join(dist, f))), `_static/${f} differs from dist/`);
});

test('source maps tell DevTools to skip every snippet source', () => {
  for (const f of ['inferwatch.min.js.map', 'inferwatch.mjs.map', 'react.mjs.map']) {
    const map = JSON.parse(readFileSync(join(dist, f), 'utf8'));
    assert.ok(map.sources.length > 0);
    assert.deepEqual(map.x_google_ignoreList, map.sources.map((_, i) => i), f);
    assert.ok(map.sources.every((s) => s.startsWith('../src/')), f);
  }
});

test('react.mjs shares the core module and leaves react to the app', () => {
  const code = readFileSync(join(dist, 'react.mjs'), 'utf8');
  assert.match(code, /from "\.\/inferwatch\.mjs"/);
  assert.match(code, /from "react"/);
  assert.doesNotMatch(code, /function captureException|transport/);
});

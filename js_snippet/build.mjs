// Builds dist/ (IIFE + ESM + React ESM, source maps that DevTools skips), enforces the size
// budget, and copies the script to the Python package. `--outdir DIR` builds elsewhere (tests
// compare that with the committed dist/ to catch a stale build); only the default build copies.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 3072; // bytes of dist/inferwatch.min.js after gzip -9
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const i = process.argv.indexOf('--outdir');
const outdir = i > 0 ? resolve(process.argv[i + 1]) : dist;

const common = { bundle: true, sourcemap: 'external', target: 'es2020', write: false, logLevel: 'warning' };

// react.mjs imports the core from the published file next to it, so both share one state
const coreExternal = {
  name: 'core-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/index\.js$/ }, () => ({ path: './inferwatch.mjs', external: true }));
  },
};

const outputs = (
  await Promise.all([
    build({ ...common, entryPoints: ['src/global.js'], outfile: join(outdir, 'inferwatch.min.js'), format: 'iife', minify: true, absWorkingDir: here }),
    build({ ...common, entryPoints: ['src/index.js'], outfile: join(outdir, 'inferwatch.mjs'), format: 'esm', absWorkingDir: here }),
    build({ ...common, entryPoints: ['src/react.js'], outfile: join(outdir, 'react.mjs'), format: 'esm', external: ['react'], plugins: [coreExternal], absWorkingDir: here }),
  ])
).flatMap((r) => r.outputFiles);

mkdirSync(outdir, { recursive: true });
for (const f of outputs) {
  let text = f.text;
  if (f.path.endsWith('.map')) {
    const map = JSON.parse(text);
    // paths as seen from dist/, wherever we built, so a rebuild elsewhere is byte-identical
    map.sources = map.sources.map((s) => relative(dist, resolve(outdir, s)).split('\\').join('/'));
    // every source is ours: DevTools then shows the caller of a wrapped console.error, not us
    map.x_google_ignoreList = map.sources.map((_, n) => n);
    text = JSON.stringify(map);
  }
  writeFileSync(f.path, text);
}

const min = outputs.find((f) => basename(f.path) == 'inferwatch.min.js').contents;
const size = gzipSync(min, { level: 9 }).length;
console.log(`inferwatch.min.js: ${min.length} bytes, ${size} bytes gzip -9 (budget ${BUDGET})`);
if (size > BUDGET) {
  console.error(`inferwatch.min.js is over budget by ${size - BUDGET} bytes`);
  process.exit(1);
}

if (outdir == dist) {
  const stat = join(here, '../python_sdk/inferwatch/_static');
  mkdirSync(stat, { recursive: true });
  for (const f of ['inferwatch.min.js', 'inferwatch.min.js.map']) copyFileSync(join(dist, f), join(stat, f));
}

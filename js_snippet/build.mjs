// Builds dist/ (IIFE + ESM + React ESM, source maps that DevTools skips), enforces the size
// budget, and copies the script to the Python package. The IIFE is minified by esbuild, then
// once more by terser, which inlines and folds what esbuild leaves (about 100 bytes gzipped). `--outdir DIR` builds elsewhere (tests
// compare that with the committed dist/ to catch a stale build); only the default build copies.
import { build } from 'esbuild';
import { minify } from 'terser';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 3072; // bytes of dist/inferwatch.min.js after gzip -9
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const i = process.argv.indexOf('--outdir');
const outdir = i > 0 ? resolve(process.argv[i + 1]) : dist;

const common = { bundle: true, sourcemap: 'external', target: 'es2021', write: false, logLevel: 'warning' };

// react.mjs imports the core from the published file next to it, so both share one state
const coreExternal = {
  name: 'core-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/index\.js$/ }, () => ({ path: './inferwatch.mjs', external: true }));
  },
};

// The script, minified once more, with a source map through both steps to the sources.
const squeeze = async ([code, map]) => {
  const out = await minify(code.text, {
    ecma: 2021,
    compress: { passes: 3 },
    format: { ascii_only: true }, // served without a charset
    sourceMap: { content: map.text, url: 'inferwatch.min.js.map', includeSources: true },
  });
  return [
    { path: code.path, text: out.code },
    { path: map.path, text: out.map },
  ];
};

const [script, ...modules] = (
  await Promise.all([
    build({ ...common, entryPoints: ['src/global.js'], outfile: join(outdir, 'inferwatch.min.js'), format: 'iife', minify: true, absWorkingDir: here }),
    build({ ...common, entryPoints: ['src/index.js'], outfile: join(outdir, 'inferwatch.mjs'), format: 'esm', absWorkingDir: here }),
    build({ ...common, entryPoints: ['src/react.js'], outfile: join(outdir, 'react.mjs'), format: 'esm', external: ['react'], plugins: [coreExternal], absWorkingDir: here }),
  ])
).map((r) => r.outputFiles);
const outputs = [...(await squeeze(script.sort((a, b) => a.path.length - b.path.length))), ...modules.flat()];

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

const min = Buffer.from(outputs.find((f) => basename(f.path) == 'inferwatch.min.js').text);
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

// Builds the example page into dist/, which the example FastAPI app serves.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const reactBindings = here('../../js_snippet/dist/react.mjs');

// inferwatch/react imports the snippet core from `./inferwatch.mjs`. This page loads the snippet
// with the pasted <script> tag instead, so point that import at the tag's global: one snippet,
// one queue, one set of listeners.
const useSnippetGlobal = {
  name: 'inferwatch-snippet-global',
  enforce: 'pre',
  resolveId(source, importer) {
    if (source === './inferwatch.mjs' && importer && importer.endsWith('react.mjs')) {
      return here('./src/inferwatch.js');
    }
    return null;
  },
};

export default defineConfig({
  plugins: [useSnippetGlobal],
  resolve: {
    alias: { 'inferwatch/react': reactBindings },
    // react.mjs lives outside this folder: resolve its `react` import to this app's copy
    dedupe: ['react', 'react-dom'],
  },
  // Built as for production: minified, with source maps the page does not point at. The demo's
  // collector reads them (`inferwatch serve --sourcemaps examples/react_app/dist`), so its crash
  // reports name `src/App.jsx` and `classify`, not the bundle and `i` (docs/sourcemaps.md).
  build: { sourcemap: 'hidden' },
});

// Builds the example page into dist/, which the example FastAPI app serves.
import { defineConfig } from 'vite';

export default defineConfig({
  // Built as for production: minified, with source maps the page does not point at. The demo's
  // collector reads them (`inferwatch serve --sourcemaps examples/react_app/dist`), so its crash
  // reports name `src/App.jsx` and `classify`, not the bundle and `i` (docs/sourcemaps.md).
  build: { sourcemap: 'hidden' },
});

// Builds the example page into dist/, which the example FastAPI app serves.
import { defineConfig } from 'vite';

export default defineConfig({
  // Not minified: inferwatch shows browser stacks as they come (it does not apply source maps),
  // so the demo's crash reports name `classify`, not `i`.
  build: { sourcemap: true, minify: false },
});

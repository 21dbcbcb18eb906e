// The <script> build: the `inferwatch` global, and auto-start from
// <script src=".../inferwatch.min.js" data-endpoint="..." data-key="..."></script>.
import { captureException, flush, generation, init, timedFetch } from './index.js';

// a second copy of the script on the page must not install a second set of listeners
if (!self.inferwatch) {
  self.inferwatch = { init, captureException, generation, timedFetch, flush };
  try {
    const ds = document.currentScript.dataset;
    ds.endpoint && init({ ...ds });
  } catch {}
}

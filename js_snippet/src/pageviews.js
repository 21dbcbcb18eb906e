// First load, history.pushState/replaceState and popstate; only when the path changed.
import { patch } from './lib/patch.js';

export const pageviews = (w, on, send) => {
  let last;
  const pv = () => {
    const path = w.location.pathname;
    if (path == last) return;
    // the referrer is the page's, for the first load only
    const ev = { type: 'pageview', path, referrer: (!last && w.document.referrer) || void 0 };
    last = path;
    send(ev);
  };
  patch(w.history, ['pushState', 'replaceState'], pv);
  on(w, 'popstate', pv);
  pv();
};

// First load, history.pushState/replaceState and popstate; only when the path changed.
export const pageviews = (w, on, send) => {
  let last;
  const h = w.history,
    pv = () => {
      const path = w.location.pathname;
      if (path == last) return;
      const ev = { type: 'pageview', path };
      if (!last && w.document.referrer) ev.referrer = w.document.referrer;
      last = path;
      send(ev);
    };
  ['pushState', 'replaceState'].forEach((k) => {
    const orig = h[k];
    h[k] = function (...a) {
      const r = orig.apply(this, a);
      try {
        pv();
      } catch {}
      return r;
    };
  });
  on(w, 'popstate', pv);
  pv();
};

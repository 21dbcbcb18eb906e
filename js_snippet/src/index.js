// inferwatch browser snippet: the public API (ESM entry; global.js is the <script> entry).
import { both, errorEvent, pipeline } from './core.js';
import { clicks } from './clicks.js';
import { wrapConsole } from './console.js';
import { errors } from './errors.js';
import { generations } from './generation.js';
import { hex } from './lib/id.js';
import { safe } from './lib/safe.js';
import { pageviews } from './pageviews.js';
import { timed } from './timedfetch.js';
import { transport } from './transport.js';

// saved at start: the snippet only ever uses these, so a wrapped fetch or console cannot make it loop
const g = globalThis,
  C = g.console,
  W = C.warn.bind(C),
  F = g.fetch,
  N = g.navigator,
  B = N?.sendBeacon?.bind(N),
  o = {},
  gens = generations((ev) => emit(ev));
let emit = () => {},
  T;

// Every error carries the page as the user saw it (the collector adds the user agent).
// `g` is `window` in a page.
const report = (err, mechanism, handled, extra) => {
  const ev = errorEvent(err, mechanism, handled, {
    referrer: g.document.referrer,
    viewport: g.innerWidth + 'x' + g.innerHeight,
    connection: N?.connection?.effectiveType,
    ...extra,
  });
  ev && emit(ev);
};

/** Report an error you caught. `extra` fields are merged into the event. */
export const captureException = safe((err, extra) => report(err, 'manual', true, extra));

/** Send queued events now. */
export const flush = safe(() => T?.flush());

export const generation = gens.generation;

export const timedFetch = timed(generation);

/** Start once; a second call only updates options. */
export const init = safe((opts) => {
  Object.assign(o, opts);
  if (T) return;
  const w = g,
    d = w.document,
    on = (t, type, fn) => t.addEventListener(type, safe(fn), true),
    hide = () => {
      gens.abandon();
      T.flush(1);
    };
  let session = hex(8);
  try {
    session = sessionStorage.iw_sid ||= session;
  } catch {}
  T = transport(o.endpoint + '?key=' + o.key, F, B, W);
  emit = pipeline(o, T.add, () => ({
    session,
    url: location.href,
    release: o.release,
    environment: o.environment,
    user: o.user,
  }));
  const send = both(emit);
  errors(w, on, report);
  // `captureConsole` is true, or "true" or "" from a data-capture-console attribute
  o.console !== false && wrapConsole(C, send, report, /^(true|)$/.test(o.captureConsole));
  o.clicks !== false && clicks(d, on, send);
  pageviews(w, on, send);
  on(d, 'visibilitychange', () => d.hidden && hide());
  on(w, 'pagehide', hide);
  setInterval(flush, 5e3);
});

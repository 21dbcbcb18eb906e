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

// saved at start: the snippet only ever uses these, so a wrapped fetch cannot make it loop
const g = globalThis,
  F = g.fetch,
  N = g.navigator,
  B = N && N.sendBeacon && N.sendBeacon.bind(N),
  o = {},
  gens = generations((ev) => emit(ev));
let emit = () => {},
  T;

/** Report an error you caught. `extra` fields are merged into the event. */
export const captureException = safe((err, extra) => {
  const ev = errorEvent(err, 'manual', true, extra);
  ev && emit(ev);
});

/** Send queued events now. */
export const flush = safe(() => T && T.flush());

export const generation = gens.generation;

export const timedFetch = timed(generation);

/** Start once; a second call only updates options. */
export const init = safe((opts) => {
  Object.assign(o, opts);
  if (T) return;
  const w = window,
    d = document,
    on = (t, type, fn) => t.addEventListener(type, safe(fn), true),
    hide = () => {
      gens.abandon();
      T.flush(1);
    };
  let session;
  try {
    session = sessionStorage.iw_sid || (sessionStorage.iw_sid = hex(8));
  } catch {
    session = hex(8);
  }
  T = transport(o.endpoint + '?key=' + o.key, F, B);
  emit = pipeline(o, T.add, () => ({
    session,
    url: location.href,
    release: o.release,
    environment: o.environment,
    user: o.user,
  }));
  const send = both(emit);
  errors(w, on, emit);
  o.console !== false && wrapConsole(console, send);
  o.clicks !== false && clicks(d, on, send);
  pageviews(w, on, send);
  on(d, 'visibilitychange', () => d.visibilityState == 'hidden' && hide());
  on(w, 'pagehide', hide);
  setInterval(flush, 5e3);
});

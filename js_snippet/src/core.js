// The one path every event takes: common fields, sampling, beforeSend, then the transport.
import { crumb, crumbs } from './breadcrumbs.js';
import { causes, info } from './lib/errinfo.js';
import { seen } from './lib/once.js';
import { safe } from './lib/safe.js';

// `o` is the init options, `add` the transport's add, `base` the fields every event carries.
export const pipeline = (o, add, base, rnd = Math.random) => (ev) => {
  if (ev.type == 'error' && rnd() >= (o.sampleRate ?? 1)) return;
  ev = { ts: Date.now(), ...base(), ...ev };
  if (o.beforeSend)
    try {
      ev = o.beforeSend(ev);
    } catch {}
  ev && add(ev);
};

// An error event, or undefined for an error already reported. (The noise every page produces,
// "Script error." and ResizeObserver loops, is dropped by the collector, as Sentry's inbound
// filters do: the bytes are the budget's.)
export const errorEvent = (err, mechanism, handled, extra) => {
  const i = info(err);
  if (!seen(err))
    return { type: 'error', ...i, mechanism, handled, cause: causes(err), breadcrumbs: crumbs.slice(), ...extra };
};

// Clicks, page views and console lines are both a breadcrumb and an event.
export const both = (emit) =>
  safe((ev) => {
    crumb(ev);
    emit(ev);
  });

// One capture-phase listener on document; a click is described by a short selector.
import { selector } from './lib/selector.js';

export const clicks = (d, on, send, now = Date.now) => {
  let last, at;
  on(d, 'click', (e) => {
    const t = e.target,
      s = t?.closest && selector(t);
    if (!s || (t == last && now() - at < 1e3)) return;
    last = t;
    at = now();
    send({ type: 'click', selector: s });
  });
};

// console.error / console.warn as breadcrumbs and events. The original method is always called
// with the original arguments, whatever serialising them does.
import { ser } from './lib/serialize.js';

export const wrapConsole = (c, send) => {
  let busy;
  ['error', 'warn'].forEach((level) => {
    const orig = c[level];
    c[level] = function (...a) {
      if (!busy) {
        busy = 1;
        try {
          send({ type: 'console', level, message: a.map((x) => ser(x)).join(' ') });
        } catch {}
        busy = 0;
      }
      return orig.apply(this, a);
    };
  });
};

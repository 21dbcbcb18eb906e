// console.error / console.warn as breadcrumbs and events; a console.error with an Error among
// its arguments is also reported as an error (every console.error when `all`, as Sentry's
// console capture does). The original method is always called with the original arguments,
// whatever serialising them does.
import { patch } from './lib/patch.js';
import { safe } from './lib/safe.js';
import { ser } from './lib/serialize.js';

export const wrapConsole = (c, send, report, all) => {
  let busy;
  // nothing the snippet does while reporting a console line can report another one
  const quiet = (fn) => {
    if (!busy) {
      busy = 1;
      safe(fn)();
      busy = 0;
    }
  };
  patch(c, ['error', 'warn'], (level, a) =>
    quiet(() => {
      const message = a.map((x) => ser(x)).join(' '),
        err = level == 'error' && (a.find((x) => x instanceof Error) || (all && { message }));
      send({ type: 'console', level, message });
      // Reported a task later: React logs a caught error before its boundary reports it with
      // the component stack, and the first report of an error is the one kept.
      err && setTimeout(() => quiet(() => report(err, 'console', true)));
    }),
  );
};

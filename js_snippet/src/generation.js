// Generation timing as the user saw it: submit -> first token -> done, with performance marks
// named iw:gen:<name>:<n> so they also show in the DevTools performance panel.
import { safe } from './lib/safe.js';

export const generations = (emit, p = performance) => {
  const open = new Set();
  let n = 0;
  // a page's own performance entries may be full or frozen: timing goes on without its marks
  const mark = safe((k) => p.mark(k)),
    measure = safe((k) => p.measure(k, k));
  // `x`: fields for the record itself (trace_id, request_id), filled in by timedFetch
  const generation = (name, attrs, x) => {
    const id = `iw:gen:${name}:${++n}`,
      t0 = p.now(),
      ms = () => Math.round(p.now() - t0);
    let first = null,
      done;
    mark(id);
    const g = {
      firstToken() {
        if (first == null && !done) {
          mark(id + ':first');
          first = ms();
        }
      },
      end({ status = 'ok', outputTokens, ...rest } = {}) {
        if (done) return;
        done = 1;
        open.delete(g);
        measure(id);
        emit({
          type: 'generation',
          name,
          status,
          duration_ms: ms(),
          first_token_ms: first,
          attrs: { ...attrs, ...rest },
          output_tokens: outputTokens,
          ...x,
        });
      },
    };
    open.add(g);
    return g;
  };
  // the page is going away with a generation still running: the user gave up on it
  const abandon = () => open.forEach((g) => g.end({ status: 'abandoned' }));
  return { generation, abandon };
};

// Generation timing as the user saw it: submit -> first token -> done, with performance marks
// named iw:gen:<name>:<n> so they also show in the DevTools performance panel.
export const generations = (emit, p = performance) => {
  const open = new Set();
  let n = 0;
  const mark = (k) => {
    try {
      p.mark(k);
    } catch {}
  };
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
        try {
          p.measure(id, id);
        } catch {}
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

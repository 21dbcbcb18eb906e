// fetch() as a generation: a W3C traceparent on the request, first token at the first
// non-empty body chunk, done at the end of the stream.
import { hex } from './lib/id.js';

export const timed = (generation) => async (name, input, init = {}, attrs) => {
  const trace_id = hex(16),
    span_id = hex(8),
    x = { trace_id, span_id },
    g = generation(name, attrs, x),
    headers = new Headers(init.headers || input.headers);
  // the span id too: the backend's request span is then a child of the user's wait
  headers.set('traceparent', `00-${trace_id}-${span_id}-01`);
  let r;
  try {
    r = await fetch(input, { ...init, headers });
  } catch (e) {
    g.end({ status: 'error' });
    throw e;
  }
  const rid = r.headers.get('x-request-id'),
    bad = r.status > 399;
  if (rid) x.request_id = rid;
  if (bad || !r.body) {
    g.end({ status: bad ? 'error' : 'ok', http_status: r.status });
    return r;
  }
  const ts = new TransformStream({
    transform(c, ctl) {
      c.length && g.firstToken();
      ctl.enqueue(c);
    },
    flush: () => g.end(),
  });
  // a body that breaks (network, abort) or a reader that cancels ends the generation too
  r.body.pipeTo(ts.writable).catch(() => g.end({ status: 'error' }));
  return new Response(ts.readable, r);
};

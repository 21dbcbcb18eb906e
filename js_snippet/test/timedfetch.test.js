import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { generations } from '../src/generation.js';
import { timed } from '../src/timedfetch.js';

const realFetch = globalThis.fetch;
afterEach(() => (globalThis.fetch = realFetch));

const stream = (chunks) =>
  new ReadableStream({
    start(c) {
      for (const ch of chunks) {
        c.enqueue(new TextEncoder().encode(ch));
      }
      c.close();
    },
  });

const setup = (respond) => {
  const sent = [],
    seen = [],
    marks = [];
  const p = { now: () => performance.now(), mark: (n) => marks.push(n), measure() {} };
  globalThis.fetch = async (input, init) => {
    seen.push({ input, init });
    return respond();
  };
  const timedFetch = timed(generations((e) => sent.push(e), p).generation);
  return { sent, seen, marks, timedFetch };
};

test('adds a W3C traceparent and records its trace_id, span_id and X-Request-ID', async () => {
  const s = setup(() => new Response(stream(['', 'hel', 'lo']), { headers: { 'X-Request-ID': 'req-7' } }));
  const r = await s.timedFetch('chat', '/api/chat', { method: 'POST', headers: { 'X-A': '1' } }, { model: 'm' });
  const tp = s.seen[0].init.headers.get('traceparent');
  assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.equal(s.seen[0].init.headers.get('x-a'), '1');
  assert.equal(s.seen[0].init.method, 'POST');
  assert.equal(s.sent.length, 0, 'not done before the stream is read');
  assert.equal(await r.text(), 'hello');
  const [g] = s.sent;
  assert.equal(g.status, 'ok');
  assert.equal(g.trace_id, tp.split('-')[1]);
  assert.equal(g.span_id, tp.split('-')[2]); // the parent of the backend's request span
  assert.equal(g.request_id, 'req-7');
  assert.deepEqual(g.attrs, { model: 'm' });
  assert.equal(r.headers.get('x-request-id'), 'req-7');
});

test('first token is marked at the first non-empty chunk, done at the end of the stream', async () => {
  let t = 0,
    ctl;
  const body = new ReadableStream({ start: (c) => (ctl = c) });
  const s = setup(() => new Response(body));
  const sleep = () => new Promise((r) => setTimeout(r, 5));
  const enc = (x) => new TextEncoder().encode(x);
  const tf = timed(generations((e) => s.sent.push(e), { now: () => t, mark: (n) => s.marks.push(n), measure() {} }).generation);
  const r = await tf('chat', '/x');
  const text = r.text();
  t = 10;
  ctl.enqueue(enc(''));
  await sleep();
  assert.deepEqual(s.marks, ['iw:gen:chat:1'], 'an empty chunk is not a token');
  t = 50;
  ctl.enqueue(enc('a'));
  await sleep();
  assert.deepEqual(s.marks, ['iw:gen:chat:1', 'iw:gen:chat:1:first']);
  t = 80;
  ctl.enqueue(enc('b'));
  ctl.close();
  assert.equal(await text, 'ab');
  assert.equal(s.sent[0].first_token_ms, 50);
  assert.equal(s.sent[0].duration_ms, 80);
});

test('HTTP >= 400 ends the generation with status error', async () => {
  const s = setup(() => new Response('bad', { status: 502 }));
  const r = await s.timedFetch('chat', '/x');
  assert.equal(r.status, 502);
  assert.equal(s.sent[0].status, 'error');
});

test('a network error ends with status error and is rethrown', async () => {
  const s = setup(() => {
    throw new TypeError('Failed to fetch');
  });
  await assert.rejects(s.timedFetch('chat', '/x'), /Failed to fetch/);
  assert.equal(s.sent[0].status, 'error');
});

test('a body that breaks mid-stream ends the generation with status error', async () => {
  let ctl;
  const s = setup(() => new Response(new ReadableStream({ start: (c) => (ctl = c) })));
  const r = await s.timedFetch('chat', '/x');
  const text = r.text();
  ctl.enqueue(new TextEncoder().encode('partial'));
  ctl.error(new TypeError('network lost'));
  await assert.rejects(text);
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(
    s.sent.map((e) => e.status),
    ['error'],
  );
});

import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { SDK, transport } from '../src/transport.js';
import { tick } from './_dom.js';

const URL_ = 'http://c.test/iw/ingest?key=k';
const ev = (i) => ({ type: 'click', selector: 'b' + i });
const err = (message = 'boom') => ({ type: 'error', name: 'Error', message, stack: 'Error: ' + message + '\n    at f (app.js:1:2)' });

// a collector that answers with the given statuses in turn (then 200)
const collector = (...statuses) => {
  const posts = [];
  const fetch = async (url, opts) => {
    posts.push({ url, opts, events: JSON.parse(opts.body).events });
    const s = statuses.shift() || 200;
    return new Response(s.body ?? '', { status: s.status || s, headers: s.headers });
  };
  return { posts, fetch };
};

const make = (fetch, beacon = () => true, take = () => true) => {
  let t = 1000;
  const warned = [];
  const tr = transport(URL_, fetch, beacon, (m) => warned.push(m), () => t, take);
  return { tr, warned, at: (ms) => (t = ms) };
};

test('flush posts one batch in the wire format as a plain string (text/plain: no preflight), without credentials', async () => {
  const c = collector();
  const { tr } = make(c.fetch);
  tr.add(ev(1));
  tr.add(ev(2));
  tr.flush();
  await tick();
  assert.equal(c.posts.length, 1);
  const { url, opts } = c.posts[0];
  assert.equal(url, URL_);
  assert.equal(opts.method, 'POST');
  assert.equal(typeof opts.body, 'string');
  assert.equal(opts.headers, undefined, 'no header that would need a CORS preflight');
  assert.equal(new Request(url, opts).headers.get('content-type'), 'text/plain;charset=UTF-8');
  assert.equal(opts.credentials, 'omit');
  assert.equal(opts.keepalive, true);
  assert.deepEqual(JSON.parse(opts.body), { sdk: SDK, events: [ev(1), ev(2)] });
  assert.equal(SDK, 'inferwatch.js/0.1.0');
});

test('keepalive only while under 60 KB in flight', async () => {
  const c = collector();
  const { tr } = make(c.fetch);
  tr.add({ type: 'console', level: 'warn', message: 'x'.repeat(70000) });
  tr.flush();
  await tick();
  assert.equal(c.posts[0].opts.keepalive, false);
});

test('20 queued events flush at once', async () => {
  const c = collector();
  const { tr } = make(c.fetch);
  for (let i = 0; i < 19; i++) tr.add(ev(i));
  assert.equal(c.posts.length, 0);
  tr.add(ev(19));
  await tick();
  assert.equal(c.posts.length, 1);
  assert.equal(c.posts[0].events.length, 20);
});

test('an error is flushed within a second', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const c = collector();
  const { tr } = make(c.fetch);
  tr.add(err());
  t.mock.timers.tick(999);
  assert.equal(c.posts.length, 0);
  t.mock.timers.tick(1);
  await tick();
  assert.equal(c.posts.length, 1);
});

test('while hiding, a refused beacon is split in halves down to single events', () => {
  const sent = [];
  // this beacon takes at most 2 events at a time, and never the event "b3"
  const beacon = (url, body) => {
    const { events } = JSON.parse(body);
    if (events.length > 2 || events.some((e) => e.selector == 'b3')) return false;
    sent.push(events.map((e) => e.selector));
    return true;
  };
  const { tr } = make(() => assert.fail('no fetch while hiding'), beacon);
  for (let i = 0; i < 7; i++) tr.add(ev(i));
  tr.flush(true);
  assert.deepEqual(sent, [['b0'], ['b1', 'b2'], ['b4'], ['b5', 'b6']]);
});

test('429 honours Retry-After, then the batch is sent again', async () => {
  const c = collector({ status: 429, headers: { 'Retry-After': '3' } });
  const { tr, at } = make(c.fetch);
  tr.add(ev(1));
  tr.flush();
  await tick();
  assert.equal(c.posts.length, 1);
  at(3999);
  tr.flush();
  await tick();
  assert.equal(c.posts.length, 1, 'still backing off');
  at(4000);
  tr.flush();
  await tick();
  assert.equal(c.posts.length, 2);
  assert.deepEqual(c.posts[1].events, [ev(1)]);
});

test('without Retry-After, back-off doubles from 1 s', async () => {
  const c = collector(429, 503);
  const { tr, at } = make(c.fetch);
  tr.add(ev(1));
  tr.flush();
  await tick();
  at(1999);
  tr.flush();
  await tick();
  assert.equal(c.posts.length, 1);
  at(2000);
  tr.flush();
  await tick();
  assert.equal(c.posts.length, 2); // 503: now 2 s
  at(3999);
  tr.flush();
  await tick();
  assert.equal(c.posts.length, 2);
  at(4000);
  tr.flush();
  await tick();
  assert.equal(c.posts.length, 3);
});

test('network errors back off and requeue; other 4xx drop the batch', async () => {
  let fail = true;
  const posts = [];
  const fetch = async (url, opts) => {
    posts.push(JSON.parse(opts.body).events);
    if (fail) throw new TypeError('Failed to fetch');
    return new Response('', { status: 400 });
  };
  const { tr, at } = make(fetch);
  tr.add(ev(1));
  tr.flush();
  await tick();
  fail = false;
  at(2000);
  tr.flush();
  await tick();
  assert.deepEqual(posts, [[ev(1)], [ev(1)]]);
  at(3000);
  tr.flush();
  await tick();
  assert.equal(posts.length, 2, '400 dropped the batch');
});

test('an identical error in the same flush window is sent once with a count', async () => {
  const c = collector();
  const { tr } = make(c.fetch);
  tr.add(err());
  tr.add(err());
  tr.add(err());
  tr.add(err('other'));
  tr.flush();
  await tick();
  const events = c.posts[0].events;
  assert.equal(events.length, 2);
  assert.equal(events[0].count, 3);
  assert.equal(events[1].count, undefined);
});

test('the rate limiter decides what is queued', async () => {
  const c = collector();
  let allow = 2;
  const { tr } = make(c.fetch, undefined, () => allow-- > 0);
  for (let i = 0; i < 5; i++) tr.add(ev(i));
  tr.flush();
  await tick();
  assert.equal(c.posts[0].events.length, 2);
});

test('the queue is bounded at 200 events, oldest dropped', async () => {
  const c = collector(503);
  const { tr, at } = make(c.fetch);
  for (let i = 0; i < 19; i++) tr.add(ev(i));
  tr.flush();
  await tick(); // 19 requeued after 503
  for (let i = 19; i < 300; i++) tr.add(ev(i)); // backing off: the size threshold does not send
  at(10000);
  tr.flush();
  await tick();
  const events = c.posts[1].events;
  assert.equal(events.length, 200);
  assert.equal(events.at(-1).selector, 'b299');
});

test('by default at most 100 events get through a burst', async () => {
  const c = collector();
  const tr = transport(URL_, c.fetch, () => true, () => {}, () => 5000);
  for (let i = 0; i < 150; i++) tr.add(ev(i));
  tr.flush();
  await tick();
  assert.equal(c.posts.flatMap((p) => p.events).length, 100);
});

test('a refused key warns once with the collector\'s reason, and nothing more is sent', async () => {
  const refusal = { status: 403, body: JSON.stringify({ error: 'wrong key for this collector' }) };
  const c = collector(refusal, refusal);
  const { tr, warned, at } = make(c.fetch);
  tr.add(ev(1));
  tr.flush();
  tr.add(ev(2));
  tr.flush(); // a second batch in flight is refused too
  await tick();
  assert.deepEqual(warned, ['inferwatch: wrong key for this collector']);
  at(100000);
  tr.add(ev(3));
  tr.add(err());
  tr.flush();
  tr.flush(true);
  await tick();
  assert.equal(c.posts.length, 2, 'nothing sent after the refusal, not even by beacon');
  assert.equal(warned.length, 1);
});

test('a missing key (401) warns too, with the status when the answer is not JSON', async () => {
  const c = collector({ status: 401, body: '<html>Unauthorized</html>' });
  const { tr, warned } = make(c.fetch);
  tr.add(ev(1));
  tr.flush();
  await tick();
  assert.deepEqual(warned, ['inferwatch: 401']);
});

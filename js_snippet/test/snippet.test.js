// The built dist/inferwatch.min.js, as a page would load it: one <script data-endpoint> tag.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { JSDOM, VirtualConsole } from 'jsdom';
import { tick } from './_dom.js';

const code = readFileSync(new URL('../dist/inferwatch.min.js', import.meta.url), 'utf8');

// `attrs`: more attributes for the script tag; `answer`: the collector's answer to each post
const page = (body = '', { attrs = '', answer = { status: 200, json: async () => ({}) } } = {}) => {
  const posts = [],
    beacons = [],
    logged = [];
  const vc = new VirtualConsole();
  vc.on('error', (...a) => logged.push(a));
  vc.on('warn', (...a) => logged.push(a));
  const dom = new JSDOM(
    `<!doctype html><body><button id="send" class="primary">Send</button>
     <script data-endpoint="http://c.test/iw/ingest" data-key="K" data-release="1.2.3" ${attrs}>${code}</script>${body}</body>`,
    {
      url: 'http://app.test/chat',
      runScripts: 'dangerously',
      virtualConsole: vc,
      beforeParse(w) {
        w.fetch = async (url, o) => {
          posts.push({ url, o, events: JSON.parse(o.body).events });
          return answer;
        };
        w.navigator.sendBeacon = (url, body) => beacons.push({ url, events: JSON.parse(body).events });
      },
    },
  );
  const w = dom.window;
  const sent = () => posts.flatMap((p) => p.events).concat(beacons.flatMap((b) => b.events));
  return { w, posts, beacons, logged, sent };
};

test('the script tag starts itself and sends page view, clicks and console lines', async () => {
  const { w, posts, logged, sent } = page();
  try {
    assert.equal(typeof w.inferwatch.init, 'function');
    w.document.getElementById('send').click();
    w.console.error('model failed', { code: 500 });
    assert.deepEqual(logged, [['model failed', { code: 500 }]], 'the page still logs');
    w.inferwatch.flush();
    await tick();
    assert.equal(posts[0].url, 'http://c.test/iw/ingest?key=K');
    assert.equal(posts[0].o.credentials, 'omit');
    const evs = sent();
    assert.deepEqual(
      evs.map((e) => e.type),
      ['pageview', 'click', 'console'],
    );
    assert.equal(evs[0].path, '/chat');
    assert.equal(evs[1].selector, 'body > button#send.primary');
    assert.equal(evs[2].message, 'model failed {code:500}');
    for (const e of evs) {
      assert.equal(e.release, '1.2.3');
      assert.equal(e.url, 'http://app.test/chat');
      assert.match(e.session, /^[0-9a-f]{16}$/);
    }
  } finally {
    w.close();
  }
});

test('errors carry the breadcrumbs that led to them', async () => {
  const { w, sent } = page();
  try {
    w.document.getElementById('send').click();
    w.inferwatch.captureException(new w.Error('boom'), { tags: { a: 1 } });
    w.dispatchEvent(new w.ErrorEvent('error', { error: new w.TypeError('uncaught one') }));
    w.inferwatch.flush();
    await tick();
    const errs = sent().filter((e) => e.type == 'error');
    assert.deepEqual(
      errs.map((e) => [e.message, e.mechanism, e.handled]),
      [
        ['boom', 'manual', true],
        ['uncaught one', 'onerror', false],
      ],
    );
    assert.deepEqual(errs[0].tags, { a: 1 });
    assert.deepEqual(
      errs[0].breadcrumbs.map((b) => b.type),
      ['pageview', 'click'],
    );
  } finally {
    w.close();
  }
});

test('calling init again does not install a second set of listeners', async () => {
  const { w, sent } = page();
  try {
    w.inferwatch.init({ endpoint: 'http://c.test/iw/ingest', key: 'K' });
    w.document.getElementById('send').click();
    w.console.warn('once');
    w.inferwatch.flush();
    await tick();
    assert.equal(sent().filter((e) => e.type == 'click').length, 1);
    assert.equal(sent().filter((e) => e.type == 'console').length, 1);
  } finally {
    w.close();
  }
});

test('hiding the page sends the queue with sendBeacon', () => {
  const { w, posts, beacons } = page();
  try {
    w.document.getElementById('send').click();
    w.dispatchEvent(new w.Event('pagehide'));
    assert.equal(posts.length, 0);
    assert.equal(beacons[0].url, 'http://c.test/iw/ingest?key=K');
    assert.deepEqual(
      beacons[0].events.map((e) => e.type),
      ['pageview', 'click'],
    );
  } finally {
    w.close();
  }
});

test('a generation still open when the page becomes hidden is sent as abandoned', () => {
  const { w, beacons } = page();
  try {
    w.inferwatch.generation('chat', { model: 'm' }).firstToken();
    w.inferwatch.generation('done').end();
    Object.defineProperty(w.document, 'hidden', { value: true, configurable: true });
    w.document.dispatchEvent(new w.Event('visibilitychange'));
    const gens = beacons.flatMap((b) => b.events).filter((e) => e.type == 'generation');
    assert.deepEqual(
      gens.map((e) => [e.name, e.status]),
      [
        ['done', 'ok'],
        ['chat', 'abandoned'],
      ],
    );
    assert.deepEqual(gens[1].attrs, { model: 'm' });
    assert.equal(typeof gens[1].first_token_ms, 'number');
  } finally {
    w.close();
  }
});

test('errors carry the page as the user saw it, and the release and environment of the tag', async () => {
  const { w, sent } = page('', { attrs: 'data-environment="staging"' });
  try {
    Object.defineProperty(w.navigator, 'connection', { value: { effectiveType: '3g' } });
    w.inferwatch.captureException(new w.Error('boom'));
    w.inferwatch.flush();
    await tick();
    const [e] = sent().filter((e) => e.type == 'error');
    assert.equal(e.url, 'http://app.test/chat');
    assert.equal(e.referrer, '');
    assert.equal(e.viewport, `${w.innerWidth}x${w.innerHeight}`);
    assert.equal(e.connection, '3g');
    assert.equal(e.release, '1.2.3');
    assert.equal(e.environment, 'staging');
  } finally {
    w.close();
  }
});

test('console.error with an Error becomes an error event with its stack; other lines stay console', async () => {
  const { w, sent } = page();
  try {
    w.console.error('could not parse answer:', new w.SyntaxError('Unexpected token <'));
    w.console.error('plain line');
    await new Promise((r) => setTimeout(r, 5));
    w.inferwatch.flush();
    await tick();
    const errs = sent().filter((e) => e.type == 'error');
    assert.deepEqual(
      errs.map((e) => [e.name, e.message, e.mechanism, e.handled]),
      [['SyntaxError', 'Unexpected token <', 'console', true]],
    );
    assert.match(errs[0].stack, /SyntaxError/);
    assert.deepEqual(
      sent().filter((e) => e.type == 'console').map((e) => e.message),
      ['could not parse answer: SyntaxError: Unexpected token <', 'plain line'],
    );
  } finally {
    w.close();
  }
});

test('data-capture-console turns every console.error into an error event', async () => {
  const { w, sent } = page('', { attrs: 'data-capture-console' });
  try {
    w.console.error('model failed', { code: 500 });
    w.console.warn('a warning is not an error');
    await new Promise((r) => setTimeout(r, 5));
    w.inferwatch.flush();
    await tick();
    const errs = sent().filter((e) => e.type == 'error');
    assert.deepEqual(
      errs.map((e) => [e.message, e.mechanism]),
      [['model failed {code:500}', 'console']],
    );
  } finally {
    w.close();
  }
});

test('a wrong key is said once in the console, with the reason the collector gave', async () => {
  const answer = { status: 403, json: async () => ({ error: 'wrong key for this collector' }) };
  const { w, posts, logged } = page('', { answer });
  try {
    w.inferwatch.captureException(new w.Error('boom'));
    w.inferwatch.flush();
    await tick();
    w.inferwatch.captureException(new w.Error('again'));
    w.inferwatch.flush();
    await tick();
    assert.deepEqual(logged, [['inferwatch: wrong key for this collector']]);
    assert.equal(posts.length, 1);
  } finally {
    w.close();
  }
});

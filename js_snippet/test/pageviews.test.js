import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageviews } from '../src/pageviews.js';
import { dom, on } from './_dom.js';

test('first load, pushState, replaceState and popstate, only when the path changed', () => {
  const w = dom('', 'http://app.test/chat').window,
    sent = [];
  pageviews(w, on, (e) => sent.push(e));
  w.history.pushState({}, '', '/chat?q=1'); // same path
  w.history.pushState({}, '', '/settings');
  w.history.replaceState({}, '', '/billing');
  w.history.back(); // jsdom fires popstate asynchronously; call it directly too
  w.history.replaceState({}, '', '/chat');
  w.dispatchEvent(new w.PopStateEvent('popstate'));
  assert.deepEqual(
    sent.map((e) => e.path),
    ['/chat', '/settings', '/billing', '/chat'],
  );
  assert.ok(sent.every((e) => e.type == 'pageview'));
});

test('the wrapped pushState still returns and changes the URL', () => {
  const w = dom('', 'http://app.test/').window;
  let calls = 0;
  pageviews(w, on, () => {
    if (calls++) throw new Error('sink');
  });
  assert.equal(w.history.pushState({ a: 1 }, '', '/x'), undefined);
  assert.equal(w.location.pathname, '/x');
  assert.deepEqual(w.history.state, { a: 1 });
});

test('the first page view carries the referrer, later ones do not', () => {
  const w = dom('', 'http://app.test/').window,
    sent = [];
  Object.defineProperty(w.document, 'referrer', { value: 'https://search.example/?q=ai' });
  pageviews(w, on, (e) => sent.push(e));
  w.history.pushState({}, '', '/next');
  assert.deepEqual(
    sent.map((e) => e.referrer),
    ['https://search.example/?q=ai', undefined],
  );
});

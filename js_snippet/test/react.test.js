// dist/react.mjs with React 19 and react-dom/client in jsdom, reporting through dist/inferwatch.mjs.
import assert from 'node:assert/strict';
import { after, before, mock, test } from 'node:test';
import { JSDOM } from 'jsdom';

const posts = [];
let iw, ErrorBoundary, reactErrorHandler, onCaughtError, onUncaughtError, onRecoverableError, React, act, createRoot;

before(async () => {
  const w = new JSDOM('<!doctype html><div id="root"></div>', { url: 'http://app.test/' }).window;
  // the core saves the native fetch when it loads, so the fake collector must be in place first
  globalThis.fetch = async (u, o) => {
    posts.push(...JSON.parse(o.body).events);
    return new Response('');
  };
  Object.assign(globalThis, { window: w, document: w.document, location: w.location, navigator: w.navigator, IS_REACT_ACT_ENVIRONMENT: true });
  mock.timers.enable({ apis: ['setInterval'] });
  iw = await import('../dist/inferwatch.mjs');
  ({ ErrorBoundary, reactErrorHandler, onCaughtError, onUncaughtError, onRecoverableError } = await import('../dist/react.mjs'));
  React = await import('react');
  act = React.act;
  ({ createRoot } = await import('react-dom/client'));
  iw.init({ endpoint: 'http://c.test/iw/ingest', key: 'k', console: false, clicks: false });
});
after(() => mock.timers.reset());

const sentErrors = async () => {
  iw.flush();
  await new Promise((r) => setImmediate(r));
  return posts.splice(0).filter((e) => e.type == 'error');
};

const Boom = ({ msg }) => {
  throw new Error(msg);
};

test('ErrorBoundary shows the fallback, calls onError and reports with mechanism react', async () => {
  const el = document.createElement('div');
  const seen = [];
  const root = createRoot(el, { onCaughtError: () => {} });
  await act(() =>
    root.render(
      React.createElement(
        ErrorBoundary,
        { fallback: (e) => React.createElement('p', null, 'sorry: ' + e.message), onError: (e) => seen.push(e.message) },
        React.createElement(Boom, { msg: 'render broke' }),
      ),
    ),
  );
  assert.equal(el.textContent, 'sorry: render broke');
  assert.deepEqual(seen, ['render broke']);
  const [e] = await sentErrors();
  assert.equal(e.message, 'render broke');
  assert.equal(e.mechanism, 'react');
  assert.equal(e.handled, true);
  assert.match(e.componentStack, /Boom/);
  root.unmount();
});

test('ErrorBoundary fallback can be a node', async () => {
  const el = document.createElement('div');
  const root = createRoot(el, { onCaughtError: () => {} });
  await act(() =>
    root.render(React.createElement(ErrorBoundary, { fallback: 'plain fallback' }, React.createElement(Boom, { msg: 'node fb' }))),
  );
  assert.equal(el.textContent, 'plain fallback');
  await sentErrors();
  root.unmount();
});

test('reactErrorHandler reports root errors with the component stack and calls the callback', async () => {
  const el = document.createElement('div');
  const called = [];
  const root = createRoot(el, {
    onUncaughtError: reactErrorHandler((err, info) => called.push([err.message, typeof info.componentStack])),
  });
  // inside act() React rethrows instead of calling onUncaughtError, so render as a page would
  globalThis.IS_REACT_ACT_ENVIRONMENT = false;
  root.render(React.createElement(Boom, { msg: 'uncaught in render' }));
  for (let i = 0; i < 50 && !called.length; i++) await new Promise((r) => setTimeout(r, 10));
  globalThis.IS_REACT_ACT_ENVIRONMENT = true;
  assert.deepEqual(called, [['uncaught in render', 'string']]);
  const [e] = await sentErrors();
  assert.equal(e.message, 'uncaught in render');
  assert.equal(e.mechanism, 'react');
  assert.match(e.componentStack, /Boom/);
  root.unmount();
});

test('with the pasted script tag started, reports go to the global inferwatch', async () => {
  const calls = [];
  globalThis.inferwatch = { captureException: (error, extra) => calls.push([error.message, extra.mechanism]) };
  try {
    reactErrorHandler()(new Error('through the tag'), { componentStack: '\n    at App' });
  } finally {
    delete globalThis.inferwatch;
  }
  assert.deepEqual(calls, [['through the tag', 'react']]);
  assert.deepEqual(await sentErrors(), []);
});

// React renders outside act() here, as in a page: uncaught and recoverable errors reach the root
// handlers only then.
const renderAsAPage = async (root, element, done) => {
  globalThis.IS_REACT_ACT_ENVIRONMENT = false;
  try {
    root.render(element);
    for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  } finally {
    globalThis.IS_REACT_ACT_ENVIRONMENT = true;
  }
};

test('the ready-made onCaughtError and the ErrorBoundary report a caught error once', async (t) => {
  const logged = t.mock.method(console, 'error', () => {});
  const el = document.createElement('div');
  const root = createRoot(el, { onCaughtError, onUncaughtError, onRecoverableError });
  await act(() =>
    root.render(
      React.createElement(ErrorBoundary, { fallback: 'sorry' }, React.createElement(Boom, { msg: 'caught once' })),
    ),
  );
  assert.equal(el.textContent, 'sorry');
  const errs = await sentErrors();
  assert.deepEqual(
    errs.map((e) => [e.message, e.mechanism, e.handled]),
    [['caught once', 'react', true]],
  );
  assert.match(errs[0].componentStack, /Boom/);
  assert.equal(logged.mock.calls[0].arguments[0].message, 'caught once', 'still logged, as React does');
  root.unmount();
});

test('the ready-made onUncaughtError reports unhandled, with the component stack', async (t) => {
  t.mock.method(console, 'error', () => {});
  const el = document.createElement('div');
  const root = createRoot(el, { onCaughtError, onUncaughtError, onRecoverableError });
  await renderAsAPage(root, React.createElement(Boom, { msg: 'nobody caught me' }), () => {
    iw.flush();
    return posts.some((e) => e.type == 'error');
  });
  const errs = await sentErrors();
  assert.deepEqual(
    errs.map((e) => [e.message, e.mechanism, e.handled]),
    [['nobody caught me', 'react', false]],
  );
  assert.match(errs[0].componentStack, /Boom/);
  root.unmount();
});

test('the ready-made onRecoverableError reports an error React recovered from', async (t) => {
  t.mock.method(console, 'error', () => {});
  let first = true;
  // throws in its first render only: React retries the root synchronously, and recovers
  const Flaky = () => {
    if (first) {
      first = false;
      throw new Error('flaky first render');
    }
    return React.createElement('p', null, 'recovered');
  };
  const el = document.createElement('div');
  const root = createRoot(el, { onCaughtError, onUncaughtError, onRecoverableError });
  await renderAsAPage(root, React.createElement(Flaky), () => el.textContent == 'recovered');
  assert.equal(el.textContent, 'recovered');
  const errs = await sentErrors();
  assert.deepEqual(
    errs.map((e) => [e.mechanism, e.handled]),
    [['react', true]],
  );
  // React wraps what it recovered from; the error thrown is its cause
  assert.match(errs[0].message, /React was able to recover/);
  assert.deepEqual(
    errs[0].cause.map((c) => c.message),
    ['flaky first render'],
  );
  root.unmount();
});

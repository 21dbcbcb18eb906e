import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crumb } from '../src/breadcrumbs.js';
import { errorEvent, pipeline } from '../src/core.js';

const base = () => ({ session: 's1', url: 'http://app.test/' });
const run = (o, evs, rnd) => {
  const out = [];
  const emit = pipeline(o, (e) => out.push(e), base, rnd);
  evs.forEach((e) => emit(e));
  return out;
};

test('every event gets ts, session, url and the release/environment/user given', () => {
  const [e] = run({}, [{ type: 'click', selector: 'b', release: 'r1' }]);
  assert.equal(e.session, 's1');
  assert.equal(e.url, 'http://app.test/');
  assert.equal(e.release, 'r1');
  assert.ok(Math.abs(e.ts - Date.now()) < 1000);
});

test('sampleRate applies to error events only', () => {
  const evs = [{ type: 'error', message: 'x' }, { type: 'click' }];
  assert.deepEqual(run({ sampleRate: 0.5 }, evs, () => 0.7).map((e) => e.type), ['click']);
  assert.deepEqual(run({ sampleRate: 0.5 }, evs, () => 0.2).map((e) => e.type), ['error', 'click']);
  assert.equal(run({}, evs, () => 0.99).length, 2, 'default 1 keeps everything');
});

test('beforeSend can change or drop an event; if it throws the event goes unchanged', () => {
  const change = run({ beforeSend: (e) => ({ ...e, user: 'u' }) }, [{ type: 'click' }]);
  assert.equal(change[0].user, 'u');
  assert.deepEqual(run({ beforeSend: () => null }, [{ type: 'click' }]), []);
  const thrown = run(
    {
      beforeSend: () => {
        throw new Error('bug in hook');
      },
    },
    [{ type: 'click', selector: 'b' }],
  );
  assert.equal(thrown[0].selector, 'b');
});

test('error events carry name, message, stack, mechanism, causes and breadcrumbs', () => {
  crumb({ type: 'click', selector: 'button#send' });
  const root = new Error('db down');
  const err = new TypeError('render failed', { cause: new Error('fetch failed', { cause: root }) });
  const e = errorEvent(err, 'manual', true, { componentStack: 'at App' });
  assert.equal(e.type, 'error');
  assert.equal(e.name, 'TypeError');
  assert.equal(e.message, 'render failed');
  assert.match(e.stack, /core\.test\.js/);
  assert.equal(e.mechanism, 'manual');
  assert.equal(e.handled, true);
  assert.deepEqual(e.cause.map((c) => c.message), ['fetch failed', 'db down']);
  assert.equal(e.componentStack, 'at App');
  assert.equal(e.breadcrumbs.at(-1).selector, 'button#send');
});

test('the cause chain stops at 5 levels, even when it is a cycle', () => {
  const a = new Error('a'),
    b = new Error('b', { cause: a });
  a.cause = b;
  assert.equal(errorEvent(a, 'manual', true).cause.length, 5);
});

test('non-Error values are reported with a serialised message', () => {
  const e = errorEvent({ code: 42 }, 'onunhandledrejection', false);
  assert.equal(e.name, 'Error');
  assert.equal(e.message, '{code:42}');
  assert.equal(errorEvent('plain', 'manual', true).message, 'plain');
  assert.equal(errorEvent(undefined, 'manual', true).message, 'undefined');
});

test('an error already reported is not reported again, by any hook', () => {
  const err = new Error('once');
  assert.equal(errorEvent(err, 'react', true).mechanism, 'react');
  assert.equal(errorEvent(err, 'console', true), undefined);
  assert.equal(errorEvent(err, 'onerror', false), undefined);
  assert.deepEqual(Object.getOwnPropertyNames(err), ['stack', 'message'], 'the error is left untouched');
  const frozen = Object.freeze(new Error('frozen'));
  assert.ok(errorEvent(frozen, 'manual', true));
  assert.equal(errorEvent(frozen, 'manual', true), undefined);
});

test('values that cannot be remembered (strings, numbers) are reported every time', () => {
  assert.ok(errorEvent('a string', 'manual', true));
  assert.ok(errorEvent('a string', 'manual', true));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errors } from '../src/errors.js';
import { dom, on } from './_dom.js';

const setup = () => {
  const w = dom('<img id="i">').window,
    sent = [];
  errors(w, on, (err, mechanism, handled) => sent.push({ err, mechanism, handled }));
  return { w, sent };
};

test('uncaught errors are reported with mechanism onerror, unhandled', () => {
  const { w, sent } = setup();
  const err = new RangeError('too far');
  w.dispatchEvent(new w.ErrorEvent('error', { error: err, message: 'Uncaught RangeError: too far' }));
  assert.deepEqual(sent, [{ err, mechanism: 'onerror', handled: false }]);
});

test('resource load errors are not crashes; an error event without an error keeps its message', () => {
  const { w, sent } = setup();
  w.document.getElementById('i').dispatchEvent(new w.Event('error'));
  w.dispatchEvent(new w.ErrorEvent('error', { message: 'Script error.' }));
  // the collector drops "Script error." (noise filters live there, not in the budget)
  assert.deepEqual(sent.map((s) => s.err), [{ message: 'Script error.' }]);
});

test('unhandled rejections, with Error and non-Error reasons and polyfilled detail.reason', () => {
  const { w, sent } = setup();
  const reject = (init) => {
    const e = new w.Event('unhandledrejection');
    Object.assign(e, init);
    w.dispatchEvent(e);
  };
  const nope = new Error('nope'),
    polyfilled = new TypeError('polyfilled');
  reject({ reason: nope });
  reject({ reason: 'just a string' });
  reject({ detail: { reason: polyfilled } });
  assert.deepEqual(
    sent.map((s) => [s.mechanism, s.handled, s.err]),
    [
      ['onunhandledrejection', false, nope],
      ['onunhandledrejection', false, 'just a string'],
      ['onunhandledrejection', false, polyfilled],
    ],
  );
});

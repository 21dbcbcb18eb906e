import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errors } from '../src/errors.js';
import { dom, on } from './_dom.js';

const setup = () => {
  const w = dom('<img id="i">').window,
    sent = [];
  errors(w, on, (e) => sent.push(e));
  return { w, sent };
};

test('uncaught errors are sent with mechanism onerror, unhandled', () => {
  const { w, sent } = setup();
  w.dispatchEvent(new w.ErrorEvent('error', { error: new RangeError('too far'), message: 'Uncaught RangeError: too far' }));
  assert.equal(sent.length, 1);
  assert.equal(sent[0].name, 'RangeError');
  assert.equal(sent[0].mechanism, 'onerror');
  assert.equal(sent[0].handled, false);
});

test('resource load errors and Script error. are ignored', () => {
  const { w, sent } = setup();
  w.document.getElementById('i').dispatchEvent(new w.Event('error'));
  w.dispatchEvent(new w.ErrorEvent('error', { message: 'Script error.' }));
  assert.equal(sent.length, 0);
});

test('unhandled rejections, with Error and non-Error reasons and polyfilled detail.reason', () => {
  const { w, sent } = setup();
  const reject = (init) => {
    const e = new w.Event('unhandledrejection');
    Object.assign(e, init);
    w.dispatchEvent(e);
  };
  reject({ reason: new Error('nope') });
  reject({ reason: 'just a string' });
  reject({ detail: { reason: new TypeError('polyfilled') } });
  assert.deepEqual(
    sent.map((e) => [e.mechanism, e.name, e.message]),
    [
      ['onunhandledrejection', 'Error', 'nope'],
      ['onunhandledrejection', 'Error', 'just a string'],
      ['onunhandledrejection', 'TypeError', 'polyfilled'],
    ],
  );
});

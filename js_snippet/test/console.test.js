import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wrapConsole } from '../src/console.js';

const fake = () => {
  const calls = [];
  return { calls, error: (...a) => calls.push(['error', a]), warn: (...a) => calls.push(['warn', a]), log() {} };
};

test('console.error and console.warn are sent as console events', () => {
  const c = fake(),
    sent = [];
  wrapConsole(c, (e) => sent.push(e));
  c.error('failed:', new Error('x'), { a: 1 });
  c.warn('slow');
  assert.deepEqual(sent, [
    { type: 'console', level: 'error', message: 'failed: Error: x {a:1}' },
    { type: 'console', level: 'warn', message: 'slow' },
  ]);
});

test('the original is called with identical arguments, even cyclic or throwing ones', () => {
  const c = fake();
  wrapConsole(c, () => {
    throw new Error('sink broke');
  });
  const cyc = {};
  cyc.cyc = cyc;
  const evil = {
    get x() {
      throw new Error('getter');
    },
  };
  c.error(cyc, evil, 3);
  assert.equal(c.calls.length, 1);
  assert.equal(c.calls[0][1][0], cyc);
  assert.equal(c.calls[0][1][1], evil);
  assert.equal(c.calls[0][1][2], 3);
});

test('a console call made while reporting does not recurse', () => {
  const c = fake(),
    sent = [];
  wrapConsole(c, (e) => {
    sent.push(e);
    c.error('from inside');
  });
  c.error('outer');
  assert.equal(sent.length, 1);
  assert.equal(c.calls.length, 2);
});

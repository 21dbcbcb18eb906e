import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wrapConsole } from '../src/console.js';

const fake = () => {
  const calls = [];
  return { calls, error: (...a) => calls.push(['error', a]), warn: (...a) => calls.push(['warn', a]), log() {} };
};

// a console wrapped as index.js does, with what it sends and what it reports
const wrapped = (all) => {
  const c = fake(),
    sent = [],
    reported = [];
  wrapConsole(c, (e) => sent.push(e), (err, mechanism, handled) => reported.push([err, mechanism, handled]), all);
  return { c, sent, reported };
};

const nextTask = () => new Promise((r) => setTimeout(r));

test('console.error and console.warn are sent as console events', () => {
  const { c, sent } = wrapped();
  c.error('failed:', new Error('x'), { a: 1 });
  c.warn('slow');
  assert.deepEqual(sent, [
    { type: 'console', level: 'error', message: 'failed: Error: x {a:1}' },
    { type: 'console', level: 'warn', message: 'slow' },
  ]);
});

test('a console.error with an Error among its arguments reports that Error, a task later', async () => {
  const { c, reported } = wrapped();
  const err = new TypeError('stream broke');
  c.error('failed to render answer:', err);
  assert.deepEqual(reported, [], 'not yet: a boundary reporting the same error comes first');
  await nextTask();
  assert.deepEqual(reported, [[err, 'console', true]]);
});

test('other console.error lines and console.warn stay breadcrumbs', async () => {
  const { c, sent, reported } = wrapped();
  c.error('model failed', { code: 500 });
  c.warn(new Error('only a warning'));
  await nextTask();
  assert.deepEqual(reported, []);
  assert.equal(sent.length, 2);
});

test('with all, every console.error line is reported, with its text as the message', async () => {
  const { c, reported } = wrapped(true);
  c.error('model failed', { code: 500 });
  c.warn('still only a warning');
  await nextTask();
  assert.deepEqual(reported, [[{ message: 'model failed {code:500}' }, 'console', true]]);
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

test('an Error logged while reporting one does not start a loop', async () => {
  const c = fake(),
    reported = [];
  // a beforeSend that logs a new Error for every event it sees
  wrapConsole(c, () => {}, (err) => {
    reported.push(err.message);
    c.error(new Error('logged by beforeSend'));
  });
  c.error(new Error('first'));
  for (let i = 0; i < 5; i++) await nextTask();
  assert.deepEqual(reported, ['first']);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generations } from '../src/generation.js';

const clock = () => {
  let t = 0;
  const marks = [],
    measures = [];
  const p = {
    now: () => t,
    mark: (n) => marks.push(n),
    measure: (n, s) => measures.push([n, s]),
  };
  return { p, marks, measures, at: (ms) => (t = ms) };
};

test('submit -> first token -> done, with performance marks', () => {
  const c = clock(),
    sent = [];
  const { generation } = generations((e) => sent.push(e), c.p);
  const g = generation('chat', { model: 'm1' });
  c.at(120);
  g.firstToken();
  c.at(150);
  g.firstToken(); // only the first counts
  c.at(900);
  g.end({ status: 'ok', outputTokens: 42, finish: 'stop' });
  g.end(); // once
  assert.deepEqual(sent, [
    {
      type: 'generation',
      name: 'chat',
      status: 'ok',
      duration_ms: 900,
      first_token_ms: 120,
      attrs: { model: 'm1', finish: 'stop' },
      output_tokens: 42,
    },
  ]);
  assert.deepEqual(c.marks, ['iw:gen:chat:1', 'iw:gen:chat:1:first']);
  assert.deepEqual(c.measures, [['iw:gen:chat:1', 'iw:gen:chat:1']]);
});

test('no first token gives first_token_ms null; status defaults to ok', () => {
  const c = clock(),
    sent = [];
  generations((e) => sent.push(e), c.p).generation('x').end();
  assert.equal(sent[0].first_token_ms, null);
  assert.equal(sent[0].status, 'ok');
});

test('generations still open when the page hides are sent as abandoned', () => {
  const c = clock(),
    sent = [];
  const { generation, abandon } = generations((e) => sent.push(e), c.p);
  generation('a').end();
  generation('b');
  c.at(5000);
  abandon();
  abandon();
  assert.deepEqual(
    sent.map((e) => [e.name, e.status, e.duration_ms]),
    [
      ['a', 'ok', 0],
      ['b', 'abandoned', 5000],
    ],
  );
});

test('works with the real performance API', () => {
  const sent = [];
  const g = generations((e) => sent.push(e)).generation('real');
  g.firstToken();
  g.end();
  assert.equal(sent[0].status, 'ok');
  assert.equal(performance.getEntriesByName('iw:gen:real:1', 'measure').length, 1);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clicks } from '../src/clicks.js';
import { dom, on } from './_dom.js';

const setup = (html) => {
  const d = dom(html).window.document,
    sent = [];
  let t = 0;
  clicks(d, on, (e) => sent.push(e), () => t);
  return { d, sent, at: (ms) => (t = ms) };
};

test('a click is sent as a click event with its selector', () => {
  const { d, sent } = setup('<button id="go">Go</button>');
  d.getElementById('go').click();
  assert.deepEqual(sent, [{ type: 'click', selector: 'body > button#go' }]);
});

test('a repeated click on the same target within 1 s counts once', () => {
  const { d, sent, at } = setup('<button id="go">Go</button><a id="x">x</a>');
  const b = d.getElementById('go');
  b.click();
  at(500);
  b.click();
  assert.equal(sent.length, 1);
  d.getElementById('x').click();
  assert.equal(sent.length, 2);
  at(1700);
  b.click();
  assert.equal(sent.length, 3);
});

test('clicks inside iw-no-capture are not sent', () => {
  const { d, sent } = setup('<div class="iw-no-capture"><button id="go">Go</button></div>');
  d.getElementById('go').click();
  assert.deepEqual(sent, []);
});

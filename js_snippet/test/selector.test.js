import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selector } from '../src/lib/selector.js';
import { dom } from './_dom.js';

const el = (html, q = '#t') => dom(html).window.document.querySelector(q);

test('describes tag, id, first two classes, aria-label, name and type', () => {
  const s = selector(el('<button id="t" class="a b c" aria-label="Send" name="go" type="submit">x</button>'));
  assert.ok(s.endsWith('button#t.a.b[aria-label="Send"][name="go"][type="submit"]'));
  assert.ok(!s.includes('.c'));
});

test('never includes text or values', () => {
  const d = dom('<div id="p"><input id="t" value="my secret value"><textarea id="ta">typed text</textarea><div contenteditable id="ce">hello</div></div>').window.document;
  for (const id of ['t', 'ta', 'ce']) {
    const s = selector(d.getElementById(id));
    assert.ok(!/secret value|typed text|hello/.test(s), s);
  }
});

test('password and hidden inputs are just the tag', () => {
  assert.equal(selector(el('<input id="t" class="x" type="password" name="pw">')).split(' > ').pop(), 'input');
  assert.equal(selector(el('<input id="t" type="hidden" name="csrf">')).split(' > ').pop(), 'input');
});

test('inputs named or identified like secrets lose name and id', () => {
  for (const attrs of ['id="t" name="api_key"', 'id="t" name="cardNumber"', 'id="auth-token" class="t"', 'id="t" name="cvv"']) {
    const d = dom(`<input ${attrs}>`).window.document;
    const s = selector(d.querySelector('input'));
    assert.equal(s.split(' > ').pop(), 'input', s);
  }
});

test('data-iw-name on the element or an ancestor replaces the selector', () => {
  assert.equal(selector(el('<button id="t" data-iw-name="send prompt">x</button>')), 'send prompt');
  assert.equal(selector(el('<div data-iw-name="composer"><span><b id="t">x</b></span></div>')), 'composer');
});

test('iw-no-capture on the element or any ancestor means no capture', () => {
  assert.equal(selector(el('<button id="t" class="iw-no-capture">x</button>')), undefined);
  assert.equal(selector(el('<section class="iw-no-capture"><div><div><button id="t">x</button></div></div></section>')), undefined);
});

test('at most 5 levels and about 80 characters', () => {
  const deep = el('<div><div><div><div><div><div><a id="t">x</a></div></div></div></div></div></div>');
  assert.equal(selector(deep), 'div > div > div > div > a#t');
  const wide = el(
    '<div id="aaaaaaaaaaaaaaaaaaaa" class="bbbbbbbbbbbbbbbbbbbbbbb"><span id="cccccccccccccccccccccccccccccc"><i id="t" class="dddddddddddddddddddd">x</i></span></div>',
  );
  const s = selector(wide);
  assert.ok(s.length <= 80, s);
  assert.ok(s.endsWith('i#t.dddddddddddddddddddd'), s);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ser } from '../src/lib/serialize.js';
import { dom } from './_dom.js';

test('Errors become name: message', () => {
  assert.equal(ser(new TypeError('bad')), 'TypeError: bad');
});

test('cycles become [Circular], shared references do not', () => {
  const a = { x: 1 };
  a.self = a;
  assert.equal(ser(a), '{x:1,self:[Circular]}');
  const shared = { v: 1 };
  assert.equal(ser([shared, shared]), '[{v:1},{v:1}]');
});

test('objects are JSON-ish with a depth limit', () => {
  assert.equal(ser({ s: 'hi', n: 2, a: [true, null], u: undefined }), '{s:"hi",n:2,a:[true,null],u:undefined}');
  assert.equal(ser({ a: { b: { c: { d: 1 } } } }), '{a:{b:{c:[Object]}}}');
});

test('DOM nodes are a short tag#id, not their markup', () => {
  const d = dom('<button id="send">secret text</button>').window.document;
  assert.equal(ser(d.getElementById('send')), '<button#send>');
  assert.equal(ser(d.body), '<body>');
});

test('long strings are truncated near 500 characters', () => {
  const s = ser('x'.repeat(5000));
  assert.ok(s.length <= 501 && s.length >= 500);
});

test('throwing getters do not throw out of ser', () => {
  const bad = {
    get boom() {
      throw new Error('getter');
    },
  };
  assert.equal(ser(bad), '[?]');
  assert.equal(ser(Symbol('s')), 'Symbol(s)');
});

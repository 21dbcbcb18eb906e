import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucket } from '../src/lib/bucket.js';

test('bursts of 100, then 10 a second', () => {
  let t = 0;
  const take = bucket(10, 100, () => t);
  let ok = 0;
  for (let i = 0; i < 150; i++) if (take()) ok++;
  assert.equal(ok, 100);
  t = 1000;
  ok = 0;
  for (let i = 0; i < 50; i++) if (take()) ok++;
  assert.equal(ok, 10);
  t = 1e6;
  ok = 0;
  for (let i = 0; i < 500; i++) if (take()) ok++;
  assert.equal(ok, 100, 'never more than the burst saved up');
});

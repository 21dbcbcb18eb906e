import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crumb, crumbs } from '../src/breadcrumbs.js';

test('the ring keeps the last 50 breadcrumbs, each with a timestamp', () => {
  for (let i = 0; i < 70; i++) crumb({ type: 'click', selector: 'b' + i });
  assert.equal(crumbs.length, 50);
  assert.equal(crumbs[0].selector, 'b20');
  assert.equal(crumbs.at(-1).selector, 'b69');
  assert.equal(typeof crumbs[0].ts, 'number');
});

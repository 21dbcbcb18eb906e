// Shared jsdom set-up for the DOM tests (no test in here).
import { JSDOM } from 'jsdom';

export const dom = (html = '', url = 'http://app.test/') => new JSDOM(`<!doctype html><body>${html}</body>`, { url });

// what the features receive from index.js: a listener installer
export const on = (t, type, fn) => t.addEventListener(type, fn, true);

export const tick = () => new Promise((r) => setImmediate(r));

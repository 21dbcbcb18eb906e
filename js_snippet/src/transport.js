// Batching, beacons, back-off. A string body goes as text/plain, so no CORS preflight. Takes its outside world as arguments (saved native fetch,
// sendBeacon and console.warn, a clock, a rate limiter) so it cannot loop through a wrapped fetch
// or console and is easy to test.
import { bucket } from './lib/bucket.js';

export const SDK = 'inferwatch.js/0.1.0';

const key = (e) => e.type == 'error' && e.name + e.message + e.stack;

export const transport = (url, fetch, beacon, warn, now = Date.now, take = bucket(10, 100, now)) => {
  let q = [],
    off,
    wait = 0,
    until = 0,
    fly = 0,
    timer;
  const body = (events) => JSON.stringify({ sdk: SDK, events });
  const requeue = (events) => (q = events.concat(q).slice(-200));

  // A refused beacon is usually too big: halve it until single events, then give up on that one.
  const send = (events) => {
    if (!beacon(url, body(events)) && events.length > 1) {
      const h = events.length >> 1;
      send(events.slice(0, h));
      send(events.slice(h));
    }
  };

  const post = async (events) => {
    const b = body(events),
      n = b.length;
    fly += n;
    try {
      const r = await fetch(url, {
        method: 'POST',
        body: b,
        keepalive: fly < 6e4,
        credentials: 'omit',
      });
      const s = r.status;
      if (s == 429 || s > 499) throw r;
      wait = 0; // other 4xx: the collector will never take this batch, drop it
      // A refused key or origin (401, 403) stays refused for this page: stop, and say why once.
      if ((s | 2) == 403 && !off) {
        off = 1;
        warn('inferwatch: ' + (await r.json().catch(() => ({ error: s }))).error);
      }
    } catch (r) {
      wait = Math.min(wait * 2 || 1e3, 6e4);
      until = now() + (r.headers?.get('retry-after') * 1e3 || wait);
      requeue(events);
    }
    fly -= n;
  };

  const flush = (hiding) => {
    if (off || !q.length || (!hiding && now() < until)) return;
    const events = q;
    q = [];
    hiding && beacon ? send(events) : post(events);
  };

  const add = (e) => {
    const k = key(e),
      same = k && q.find((x) => key(x) == k);
    if (same) return (same.count = (same.count || 1) + 1);
    if (!take()) return;
    q.push(e) > 200 && q.shift();
    // errors go out within a second, so a crash report arrives while the page stays open
    if (k && !timer) timer = setTimeout(() => flush((timer = 0)), 1e3);
    q.length > 19 && flush();
  };

  return { add, flush };
};

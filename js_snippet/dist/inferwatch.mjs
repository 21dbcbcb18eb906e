// src/breadcrumbs.js
var crumbs = [];
var crumb = (b) => {
  crumbs.push({ ts: Date.now(), ...b });
  crumbs.length > 50 && crumbs.shift();
};

// src/lib/serialize.js
var MAX = 500;
var ser = (v, d = 0, seen2 = []) => {
  let s;
  try {
    if (typeof v == "string") s = d ? JSON.stringify(v) : v;
    else if (v instanceof Error) s = v.name + ": " + v.message;
    else if (v && v.nodeType) s = "<" + v.nodeName.toLowerCase() + (v.id ? "#" + v.id : "") + ">";
    else if (v && typeof v == "object") {
      if (seen2.includes(v)) return "[Circular]";
      if (d > 2) return "[Object]";
      seen2.push(v);
      s = Array.isArray(v) ? "[" + v.slice(0, 50).map((x) => ser(x, d + 1, seen2)) + "]" : "{" + Object.keys(v).slice(0, 50).map((k) => k + ":" + ser(v[k], d + 1, seen2)) + "}";
      seen2.pop();
    } else s = String(v);
  } catch {
    s = "[?]";
  }
  return s.length > MAX ? s.slice(0, MAX) + "\u2026" : s;
};

// src/lib/errinfo.js
var info = (e) => ({
  name: "" + (e?.name || "Error"),
  message: e?.message != null ? "" + e.message : ser(e),
  stack: "" + (e?.stack || "")
});
var causes = (e) => {
  const out = [];
  while (out.length < 5 && e && (e = e.cause) != null) out.push(info(e));
  return out;
};

// src/lib/once.js
var reported = /* @__PURE__ */ new WeakSet();
var seen = (e) => {
  try {
    if (reported.has(e)) return 1;
    reported.add(e);
  } catch {
  }
};

// src/lib/safe.js
var safe = (fn) => (...a) => {
  try {
    return fn(...a);
  } catch {
  }
};

// src/core.js
var pipeline = (o2, add, base, rnd = Math.random) => (ev) => {
  if (ev.type == "error" && rnd() >= (o2.sampleRate ?? 1)) return;
  ev = { ts: Date.now(), ...base(), ...ev };
  if (o2.beforeSend)
    try {
      ev = o2.beforeSend(ev);
    } catch {
    }
  ev && add(ev);
};
var errorEvent = (err, mechanism, handled, extra) => {
  const i = info(err);
  if (!seen(err))
    return { type: "error", ...i, mechanism, handled, cause: causes(err), breadcrumbs: crumbs.slice(), ...extra };
};
var both = (emit2) => safe((ev) => {
  crumb(ev);
  emit2(ev);
});

// src/lib/selector.js
var SENSITIVE = /pass|secret|token|card|cvv|ssn|api.?key|auth/i;
var part = (e) => {
  const a = (k) => e.getAttribute(k), tag = e.tagName.toLowerCase();
  if (/^(password|hidden)$/i.test(a("type")) || SENSITIVE.test(a("name") + " " + e.id)) return tag;
  return tag + (e.id ? "#" + e.id : "") + [...e.classList].slice(0, 2).map((c) => "." + c).join("") + ["aria-label", "name", "type"].map((k) => a(k) ? `[${k}="${a(k)}"]` : "").join("");
};
var selector = (el) => {
  if (el.closest(".iw-no-capture")) return;
  const named = el.closest("[data-iw-name]");
  if (named) return named.getAttribute("data-iw-name").slice(0, 80);
  let out = "";
  for (let e = el, n = 0; e && e.parentElement && n < 5; e = e.parentElement, n++) {
    const next = part(e) + (out && " > " + out);
    if (out && next.length > 80) break;
    out = next;
  }
  return out.slice(0, 80);
};

// src/clicks.js
var clicks = (d, on, send, now = Date.now) => {
  let last, at;
  on(d, "click", (e) => {
    const t = e.target, s = t?.closest && selector(t);
    if (!s || t == last && now() - at < 1e3) return;
    last = t;
    at = now();
    send({ type: "click", selector: s });
  });
};

// src/lib/patch.js
var patch = (o2, names, fn) => names.forEach((k) => {
  const orig = o2[k];
  o2[k] = function(...a) {
    const r = orig.apply(this, a);
    try {
      fn(k, a);
    } catch {
    }
    return r;
  };
});

// src/console.js
var wrapConsole = (c, send, report2, all) => {
  let busy;
  const quiet = (fn) => {
    if (!busy) {
      busy = 1;
      safe(fn)();
      busy = 0;
    }
  };
  patch(
    c,
    ["error", "warn"],
    (level, a) => quiet(() => {
      const message = a.map((x) => ser(x)).join(" "), err = level == "error" && (a.find((x) => x instanceof Error) || all && { message });
      send({ type: "console", level, message });
      err && setTimeout(() => quiet(() => report2(err, "console", true)));
    })
  );
};

// src/errors.js
var errors = (w, on, report2) => {
  on(w, "error", (e) => {
    if (e.target == w) report2(e.error || { message: e.message }, "onerror", false);
  });
  on(w, "unhandledrejection", (e) => {
    report2(e.reason ?? e.detail?.reason, "onunhandledrejection", false);
  });
};

// src/generation.js
var generations = (emit2, p = performance) => {
  const open = /* @__PURE__ */ new Set();
  let n = 0;
  const mark = safe((k) => p.mark(k)), measure = safe((k) => p.measure(k, k));
  const generation2 = (name, attrs, x) => {
    const id = `iw:gen:${name}:${++n}`, t0 = p.now(), ms = () => Math.round(p.now() - t0);
    let first = null, done;
    mark(id);
    const g2 = {
      firstToken() {
        if (first == null && !done) {
          mark(id + ":first");
          first = ms();
        }
      },
      end({ status = "ok", outputTokens, ...rest } = {}) {
        if (done) return;
        done = 1;
        open.delete(g2);
        measure(id);
        emit2({
          type: "generation",
          name,
          status,
          duration_ms: ms(),
          first_token_ms: first,
          attrs: { ...attrs, ...rest },
          output_tokens: outputTokens,
          ...x
        });
      }
    };
    open.add(g2);
    return g2;
  };
  const abandon = () => open.forEach((g2) => g2.end({ status: "abandoned" }));
  return { generation: generation2, abandon };
};

// src/lib/id.js
var hex = (n) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => (b + 256).toString(16).slice(1)).join("");

// src/pageviews.js
var pageviews = (w, on, send) => {
  let last;
  const pv = () => {
    const path = w.location.pathname;
    if (path == last) return;
    const ev = { type: "pageview", path, referrer: !last && w.document.referrer || void 0 };
    last = path;
    send(ev);
  };
  patch(w.history, ["pushState", "replaceState"], pv);
  on(w, "popstate", pv);
  pv();
};

// src/timedfetch.js
var timed = (generation2) => async (name, input, init2 = {}, attrs) => {
  const trace_id = hex(16), span_id = hex(8), x = { trace_id, span_id }, g2 = generation2(name, attrs, x), headers = new Headers(init2.headers || input.headers);
  headers.set("traceparent", `00-${trace_id}-${span_id}-01`);
  let r;
  try {
    r = await fetch(input, { ...init2, headers });
  } catch (e) {
    g2.end({ status: "error" });
    throw e;
  }
  const rid = r.headers.get("x-request-id"), bad = r.status > 399;
  if (rid) x.request_id = rid;
  if (bad || !r.body) {
    g2.end({ status: bad ? "error" : "ok", http_status: r.status });
    return r;
  }
  const ts = new TransformStream({
    transform(c, ctl) {
      c.length && g2.firstToken();
      ctl.enqueue(c);
    },
    flush: () => g2.end()
  });
  r.body.pipeTo(ts.writable).catch(() => g2.end({ status: "error" }));
  return new Response(ts.readable, r);
};

// src/lib/bucket.js
var bucket = (rate, burst, now) => {
  let t = burst, last = now();
  return () => {
    const n = now();
    t = Math.min(burst, t + (n - last) * rate / 1e3);
    last = n;
    return t >= 1 && t--;
  };
};

// src/transport.js
var SDK = "inferwatch.js/0.1.0";
var key = (e) => e.type == "error" && e.name + e.message + e.stack;
var transport = (url, fetch2, beacon, warn, now = Date.now, take = bucket(10, 100, now)) => {
  let q = [], off, wait = 0, until = 0, fly = 0, timer;
  const body = (events) => JSON.stringify({ sdk: SDK, events });
  const requeue = (events) => q = events.concat(q).slice(-200);
  const send = (events) => {
    if (!beacon(url, body(events)) && events.length > 1) {
      const h = events.length >> 1;
      send(events.slice(0, h));
      send(events.slice(h));
    }
  };
  const post = async (events) => {
    const b = body(events), n = b.length;
    fly += n;
    try {
      const r = await fetch2(url, {
        method: "POST",
        body: b,
        keepalive: fly < 6e4,
        credentials: "omit"
      });
      const s = r.status;
      if (s == 429 || s > 499) throw r;
      wait = 0;
      if ((s | 2) == 403 && !off) {
        off = 1;
        warn("inferwatch: " + (await r.json().catch(() => ({ error: s }))).error);
      }
    } catch (r) {
      wait = Math.min(wait * 2 || 1e3, 6e4);
      until = now() + (r.headers?.get("retry-after") * 1e3 || wait);
      requeue(events);
    }
    fly -= n;
  };
  const flush2 = (hiding) => {
    if (off || !q.length || !hiding && now() < until) return;
    const events = q;
    q = [];
    hiding && beacon ? send(events) : post(events);
  };
  const add = (e) => {
    const k = key(e), same = k && q.find((x) => key(x) == k);
    if (same) return same.count = (same.count || 1) + 1;
    if (!take()) return;
    q.push(e) > 200 && q.shift();
    if (k && !timer) timer = setTimeout(() => flush2(timer = 0), 1e3);
    q.length > 19 && flush2();
  };
  return { add, flush: flush2 };
};

// src/index.js
var g = globalThis;
var C = g.console;
var W = C.warn.bind(C);
var F = g.fetch;
var N = g.navigator;
var B = N?.sendBeacon?.bind(N);
var o = {};
var gens = generations((ev) => emit(ev));
var emit = () => {
};
var T;
var report = (err, mechanism, handled, extra) => {
  const ev = errorEvent(err, mechanism, handled, {
    referrer: g.document.referrer,
    viewport: g.innerWidth + "x" + g.innerHeight,
    connection: N?.connection?.effectiveType,
    ...extra
  });
  ev && emit(ev);
};
var captureException = safe((err, extra) => report(err, "manual", true, extra));
var flush = safe(() => T?.flush());
var generation = gens.generation;
var timedFetch = timed(generation);
var init = safe((opts) => {
  Object.assign(o, opts);
  if (T) return;
  const w = g, d = w.document, on = (t, type, fn) => t.addEventListener(type, safe(fn), true), hide = () => {
    gens.abandon();
    T.flush(1);
  };
  let session = hex(8);
  try {
    session = sessionStorage.iw_sid ||= session;
  } catch {
  }
  T = transport(o.endpoint + "?key=" + o.key, F, B, W);
  emit = pipeline(o, T.add, () => ({
    session,
    url: location.href,
    release: o.release,
    environment: o.environment,
    user: o.user
  }));
  const send = both(emit);
  errors(w, on, report);
  o.console !== false && wrapConsole(C, send, report, /^(true|)$/.test(o.captureConsole));
  o.clicks !== false && clicks(d, on, send);
  pageviews(w, on, send);
  on(d, "visibilitychange", () => d.hidden && hide());
  on(w, "pagehide", hide);
  setInterval(flush, 5e3);
});
export {
  captureException,
  flush,
  generation,
  init,
  timedFetch
};

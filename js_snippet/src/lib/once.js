// Whether an error was reported before; remembers it if not. One error reaches several hooks:
// React logs a caught error with console.error before its boundary reports it, and an error
// reported by hand and rethrown reaches window.onerror. It is reported once, by the first hook
// that sees it, as Sentry does. The error itself is left untouched; values a WeakSet cannot hold
// (strings, numbers) are reported every time.
const reported = new WeakSet();

export const seen = (e) => {
  try {
    if (reported.has(e)) return 1;
    reported.add(e);
  } catch {}
};

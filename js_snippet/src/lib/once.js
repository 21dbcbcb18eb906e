// Whether an error was reported before; marks it if not. One error reaches several hooks: React
// logs a caught error with console.error before its boundary reports it, and an error reported
// by hand and rethrown reaches window.onerror. It is reported once, by the first hook that sees
// it (as Sentry marks captured errors). Values that cannot carry the mark (strings, frozen
// objects) are reported every time.
export const seen = (e) => {
  try {
    if (e.__iw) return 1;
    e.__iw = 1;
  } catch {}
};

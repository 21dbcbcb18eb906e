// Everything that runs inside the page goes through this: the snippet must never throw into it.
export const safe =
  (fn) =>
  (...a) => {
    try {
      return fn(...a);
    } catch {}
  };

// Everything that runs inside the page goes through this: the snippet must never throw into it.
export const safe = (fn) =>
  function (...a) {
    try {
      return fn.apply(this, a);
    } catch {}
  };

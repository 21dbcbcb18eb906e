// Replaces methods `names` of `o` with ones that call the original with the original arguments,
// then `fn(name, args)`; what `fn` throws never reaches the caller.
export const patch = (o, names, fn) =>
  names.forEach((k) => {
    const orig = o[k];
    o[k] = function (...a) {
      const r = orig.apply(this, a);
      try {
        fn(k, a);
      } catch {}
      return r;
    };
  });

// Token bucket: `rate` tokens a second, at most `burst` saved up. Returns take() -> truthy if allowed.
export const bucket = (rate, burst, now) => {
  let t = burst,
    last = now();
  return () => {
    const n = now();
    t = Math.min(burst, t + ((n - last) * rate) / 1e3);
    last = n;
    return t >= 1 && t--;
  };
};

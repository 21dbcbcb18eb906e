// n random bytes as lowercase hex (trace ids, span ids, session ids).
export const hex = (n) =>
  Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => (b + 256).toString(16).slice(1)).join('');

// One console argument (or a non-Error rejection reason) as a short, safe string.
// Never throws, never follows a cycle, never dumps a DOM tree.
const MAX = 500;

export const ser = (v, d = 0, seen = []) => {
  let s;
  try {
    if (typeof v == 'string') s = d ? JSON.stringify(v) : v;
    else if (v instanceof Error) s = v.name + ': ' + v.message;
    else if (v && v.nodeType) s = '<' + v.nodeName.toLowerCase() + (v.id ? '#' + v.id : '') + '>';
    else if (v && typeof v == 'object') {
      if (seen.includes(v)) return '[Circular]';
      if (d > 2) return '[Object]';
      seen.push(v);
      s = Array.isArray(v)
        ? '[' + v.slice(0, 50).map((x) => ser(x, d + 1, seen)) + ']'
        : '{' + Object.keys(v).slice(0, 50).map((k) => k + ':' + ser(v[k], d + 1, seen)) + '}';
      seen.pop();
    } else s = String(v);
  } catch {
    s = '[?]';
  }
  return s.length > MAX ? s.slice(0, MAX) + '…' : s;
};

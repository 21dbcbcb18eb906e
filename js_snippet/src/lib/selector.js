// A short description of a clicked element, never its content.
// undefined means "do not capture" (an `iw-no-capture` ancestor).
const SENSITIVE = /pass|secret|token|card|cvv|ssn|api.?key|auth/i;

const part = (e) => {
  const a = (k) => e.getAttribute(k),
    tag = e.tagName.toLowerCase();
  // password/hidden inputs and fields named like secrets: the tag alone
  if (/^(password|hidden)$/i.test(a('type')) || SENSITIVE.test(a('name') + ' ' + e.id)) return tag;
  return (
    tag +
    (e.id ? '#' + e.id : '') +
    [...e.classList].slice(0, 2).map((c) => '.' + c).join('') +
    ['aria-label', 'name', 'type'].map((k) => (a(k) ? `[${k}="${a(k)}"]` : '')).join('')
  );
};

export const selector = (el) => {
  if (el.closest('.iw-no-capture')) return;
  const named = el.closest('[data-iw-name]');
  if (named) return named.getAttribute('data-iw-name').slice(0, 80);
  let out = '';
  for (let e = el, n = 0; e && e.parentElement && n < 5; e = e.parentElement, n++) {
    const next = part(e) + (out && ' > ' + out);
    if (out && next.length > 80) break;
    out = next;
  }
  return out.slice(0, 80);
};

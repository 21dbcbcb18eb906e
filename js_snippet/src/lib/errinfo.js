import { ser } from './serialize.js';

// name/message/stack of anything thrown; non-Error values become an Error-shaped record.
export const info = (e) =>
  e && e.message != null
    ? { name: '' + (e.name || 'Error'), message: '' + e.message, stack: '' + (e.stack || '') }
    : { name: 'Error', message: ser(e), stack: '' };

// The `cause` chain, at most 5 levels deep.
export const causes = (e) => {
  const out = [];
  while (out.length < 5 && e && (e = e.cause) != null) out.push(info(e));
  return out;
};

import { ser } from './serialize.js';

// name/message/stack of anything thrown; non-Error values become an Error-shaped record.
export const info = (e) => ({
  name: '' + (e?.name || 'Error'),
  message: e?.message != null ? '' + e.message : ser(e),
  stack: '' + (e?.stack || ''),
});

// The `cause` chain, at most 5 levels deep.
export const causes = (e) => {
  const out = [];
  while (out.length < 5 && e && (e = e.cause) != null) out.push(info(e));
  return out;
};

// Uncaught errors and unhandled rejections.
import { errorEvent } from './core.js';

export const errors = (w, on, emit) => {
  const cap = (err, m) => {
    const ev = errorEvent(err, m, false);
    ev && emit(ev);
  };
  on(w, 'error', (e) => {
    // resource load errors (img, script) reach window in the capture phase; they are not crashes
    if (e.target == w) cap(e.error || { message: e.message, stack: '' }, 'onerror');
  });
  on(w, 'unhandledrejection', (e) => {
    cap(e.reason ?? (e.detail && e.detail.reason), 'onunhandledrejection');
  });
};

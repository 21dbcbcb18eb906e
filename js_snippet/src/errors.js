// Uncaught errors and unhandled rejections. `report(err, mechanism, handled)` sends an error.
export const errors = (w, on, report) => {
  on(w, 'error', (e) => {
    // resource load errors (img, script) reach window in the capture phase; they are not crashes
    if (e.target == w) report(e.error || { message: e.message }, 'onerror', false);
  });
  on(w, 'unhandledrejection', (e) => {
    report(e.reason ?? e.detail?.reason, 'onunhandledrejection', false);
  });
};

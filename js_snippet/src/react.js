// React bindings: an error boundary and React 19 root error handlers, reporting with mechanism
// "react" and the component stack.
import { Component } from 'react';
import * as core from './index.js';

// A page that pasted the <script> tag has started the global copy; this module's own import of
// the core would be a second, never-started copy, so the global one is used when present.
const report = (error, info, handled) =>
  (globalThis.inferwatch || core).captureException(error, {
    mechanism: 'react',
    handled,
    componentStack: info && info.componentStack,
  });

/** <ErrorBoundary fallback={(error) => <p>Sorry</p>} onError={fn}>…</ErrorBoundary> */
export class ErrorBoundary extends Component {
  constructor(props) {
    super(props);
    this.state = { caught: false, error: null };
  }
  static getDerivedStateFromError(error) {
    return { caught: true, error };
  }
  componentDidCatch(error, info) {
    report(error, info, true);
    this.props.onError && this.props.onError(error, info);
  }
  render() {
    const { caught, error } = this.state,
      f = this.props.fallback;
    return caught ? (typeof f == 'function' ? f(error) : f ?? null) : this.props.children;
  }
}

/** createRoot(el, { onUncaughtError: reactErrorHandler(), onCaughtError: reactErrorHandler(cb) }) */
export const reactErrorHandler = (callback) => (error, info) => {
  report(error, info, !!callback);
  callback && callback(error, info);
};

// React's own defaults, kept after the report so the error still shows in the console.
// inferwatch's console and window hooks skip the error: it was reported already.
const rethrow = (error) => (typeof reportError == 'function' ? reportError(error) : console.error(error));

/** createRoot(el, { onUncaughtError }): errors no boundary caught, reported as unhandled. */
export const onUncaughtError = (error, info) => {
  report(error, info, false);
  rethrow(error);
};

/** createRoot(el, { onCaughtError }): errors an error boundary caught, reported as handled
 * (an inferwatch ErrorBoundary's own report comes after this one, and is skipped). */
export const onCaughtError = (error, info) => {
  report(error, info, true);
  console.error(error);
};

/** createRoot(el, { onRecoverableError }): errors React recovered from, reported as handled. */
export const onRecoverableError = (error, info) => {
  report(error, info, true);
  rethrow(error);
};

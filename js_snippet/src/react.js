// React bindings: an error boundary and React 19 root error hooks, reporting with mechanism "react".
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

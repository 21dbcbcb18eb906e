// src/react.js
import { Component } from "react";
import * as core from "./inferwatch.mjs";
var report = (error, info, handled) => (globalThis.inferwatch || core).captureException(error, {
  mechanism: "react",
  handled,
  componentStack: info && info.componentStack
});
var ErrorBoundary = class extends Component {
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
    const { caught, error } = this.state, f = this.props.fallback;
    return caught ? typeof f == "function" ? f(error) : f ?? null : this.props.children;
  }
};
var reactErrorHandler = (callback) => (error, info) => {
  report(error, info, !!callback);
  callback && callback(error, info);
};
var rethrow = (error) => typeof reportError == "function" ? reportError(error) : console.error(error);
var onUncaughtError = (error, info) => {
  report(error, info, false);
  rethrow(error);
};
var onCaughtError = (error, info) => {
  report(error, info, true);
  console.error(error);
};
var onRecoverableError = (error, info) => {
  report(error, info, true);
  rethrow(error);
};
export {
  ErrorBoundary,
  onCaughtError,
  onRecoverableError,
  onUncaughtError,
  reactErrorHandler
};

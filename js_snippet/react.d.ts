// Types for dist/react.mjs (`inferwatch/react`).
import type { Component, ErrorInfo, ReactNode } from 'react';

export interface ErrorBoundaryProps {
  /** Shown after an error: a node, or a function of the error. */
  fallback?: ReactNode | ((error: unknown) => ReactNode);
  onError?: (error: unknown, info: ErrorInfo) => void;
  children?: ReactNode;
}

/**
 * Catches render errors below it and reports them with mechanism "react" and the component stack.
 * @example <ErrorBoundary fallback={(e) => <p>Something broke</p>}><App /></ErrorBoundary>
 */
export class ErrorBoundary extends Component<ErrorBoundaryProps, { caught: boolean; error: unknown }> {}

/** What React 19 passes to the root error handlers. */
export interface RootErrorInfo {
  componentStack?: string;
  errorBoundary?: Component | null;
}

/** A React 19 root error handler, as `createRoot(el, options)` takes it. */
export type RootErrorHandler = (error: unknown, errorInfo: RootErrorInfo) => void;

/**
 * Errors no boundary caught: reported as unhandled, then passed to `reportError` as React does.
 * @example createRoot(el, { onUncaughtError, onCaughtError, onRecoverableError })
 */
export const onUncaughtError: RootErrorHandler;

/** Errors an error boundary caught: reported as handled, then logged with `console.error` as React does. */
export const onCaughtError: RootErrorHandler;

/** Errors React recovered from: reported as handled, then passed to `reportError` as React does. */
export const onRecoverableError: RootErrorHandler;

/**
 * A root error handler that reports the error (handled when there is a `callback`), then calls
 * `callback`; as `reactErrorHandler` of Sentry's React SDK.
 * @example createRoot(el, { onUncaughtError: reactErrorHandler((error) => showToast(error)) })
 */
export function reactErrorHandler(callback?: RootErrorHandler): RootErrorHandler;

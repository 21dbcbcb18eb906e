// Types for dist/react.mjs.
import type { Component, ErrorInfo, ReactNode } from 'react';

export interface ErrorBoundaryProps {
  /** Shown after an error: a node, or a function of the error. */
  fallback?: ReactNode | ((error: unknown) => ReactNode);
  onError?: (error: unknown, info: ErrorInfo) => void;
  children?: ReactNode;
}

/**
 * Catches render errors below it and reports them with mechanism "react".
 * @example <ErrorBoundary fallback={(e) => <p>Something broke</p>}><App /></ErrorBoundary>
 */
export class ErrorBoundary extends Component<ErrorBoundaryProps, { caught: boolean; error: unknown }> {}

/**
 * For React 19 root options; captures the error with `errorInfo.componentStack`, then calls `callback`.
 * @example createRoot(el, { onUncaughtError: reactErrorHandler(), onRecoverableError: reactErrorHandler() })
 */
export function reactErrorHandler(
  callback?: (error: unknown, errorInfo: { componentStack?: string }) => void,
): (error: unknown, errorInfo: { componentStack?: string }) => void;

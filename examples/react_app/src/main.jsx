import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ErrorBoundary, onCaughtError, onRecoverableError, onUncaughtError } from 'inferwatch/react';
import { App } from './App.jsx';
import './style.css';

// React 19 reports errors to these root handlers instead of throwing them at window: inferwatch's
// report each one with the component stack, then do what React does by default.
const root = createRoot(document.getElementById('root'), {
  onUncaughtError,
  onCaughtError,
  onRecoverableError,
});

root.render(
  <StrictMode>
    <ErrorBoundary fallback={<p role="alert">The page crashed. The error was reported.</p>}>
      <App />
    </ErrorBoundary>
  </StrictMode>,
);

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ErrorBoundary, reactErrorHandler } from 'inferwatch/react';
import { App } from './App.jsx';
import './style.css';

// React 19 reports errors here instead of throwing them at window: hand them to inferwatch.
const root = createRoot(document.getElementById('root'), {
  onUncaughtError: reactErrorHandler(),
  onRecoverableError: reactErrorHandler(),
});

root.render(
  <StrictMode>
    <ErrorBoundary fallback={<p role="alert">The page crashed. The error was reported.</p>}>
      <App />
    </ErrorBoundary>
  </StrictMode>,
);

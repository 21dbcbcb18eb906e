// Types for the inferwatch browser snippet (dist/inferwatch.mjs, and the `inferwatch` global of
// dist/inferwatch.min.js).

export type EventType = 'error' | 'console' | 'click' | 'pageview' | 'generation';

export interface Breadcrumb {
  type: 'click' | 'pageview' | 'console';
  ts: number;
  selector?: string;
  path?: string;
  level?: 'error' | 'warn';
  message?: string;
}

export interface ErrorRecord {
  name: string;
  message: string;
  stack: string;
}

/** What is sent; `beforeSend` sees (and may change) it. */
export interface InferwatchEvent {
  type: EventType;
  /** epoch milliseconds */
  ts: number;
  session: string;
  url: string;
  release?: string;
  environment?: string;
  user?: unknown;
  // error
  name?: string;
  message?: string;
  stack?: string;
  mechanism?: 'onerror' | 'onunhandledrejection' | 'react' | 'console' | 'manual';
  handled?: boolean;
  cause?: ErrorRecord[];
  breadcrumbs?: Breadcrumb[];
  count?: number;
  componentStack?: string;
  /** `document.referrer` (errors; the first page view) */
  referrer?: string;
  /** the window's inner size, e.g. "1280x720" (errors) */
  viewport?: string;
  /** `navigator.connection.effectiveType` where the browser has it: "4g", "3g"... (errors) */
  connection?: string;
  // console
  level?: 'error' | 'warn';
  // click
  selector?: string;
  // pageview
  path?: string;
  // generation
  status?: 'ok' | 'error' | 'abandoned';
  duration_ms?: number;
  first_token_ms?: number | null;
  attrs?: Record<string, unknown>;
  trace_id?: string;
  request_id?: string;
  output_tokens?: number;
  [key: string]: unknown;
}

export interface InitOptions {
  /** Collector ingest URL, e.g. "http://127.0.0.1:8765/iw/ingest". */
  endpoint: string;
  /** Project key, sent as `?key=`. */
  key?: string;
  /** Share of error events kept, 0..1. Default 1. */
  sampleRate?: number;
  /** Change an event, or return null to drop it. If it throws, the event is sent unchanged. */
  beforeSend?: (event: InferwatchEvent) => InferwatchEvent | null;
  /** Capture console.error / console.warn as breadcrumbs, and a console.error with an Error
   * among its arguments as an error. Default true. */
  console?: boolean;
  /** Report every console.error as an error, as Sentry's console capture does (the data
   * attribute: `data-capture-console` or `data-capture-console="true"`). Default false. */
  captureConsole?: boolean;
  /** Capture clicks. Default true. */
  clicks?: boolean;
  /** Your app's version, e.g. "1.4.0" (also `data-release`). */
  release?: string;
  /** e.g. "production" (also `data-environment`). */
  environment?: string;
  user?: unknown;
}

export interface EndAttrs {
  status?: 'ok' | 'error' | 'abandoned';
  outputTokens?: number;
  [attr: string]: unknown;
}

export interface Generation {
  /** Mark the first token the user saw (only the first call counts). */
  firstToken(): void;
  /** Finish and send the generation record (only the first call counts). */
  end(attrs?: EndAttrs): void;
}

/**
 * Start once. A second call only updates options.
 * @example inferwatch.init({ endpoint: '/iw/ingest', key: 'KEY', release: '1.4.0' })
 */
export function init(options: InitOptions): void;

/**
 * Report a caught error; `extra` fields are merged into the event.
 * @example try { parse(x) } catch (e) { inferwatch.captureException(e, { tags: { step: 'parse' } }) }
 */
export function captureException(error: unknown, extra?: Record<string, unknown>): void;

/**
 * Time one generation as the user sees it: submit -> first token -> done.
 * @example const g = inferwatch.generation('chat', { model }); ... g.firstToken(); ... g.end({ outputTokens: 120 })
 */
export function generation(name: string, attrs?: Record<string, unknown>): Generation;

/**
 * fetch() timed as a generation, with a W3C traceparent header; first token at the first
 * non-empty body chunk, done when the body has been read. Network errors are rethrown.
 * @example const r = await inferwatch.timedFetch('chat', '/api/chat', { method: 'POST', body })
 */
export function timedFetch(
  name: string,
  input: RequestInfo | URL,
  init?: RequestInit,
  attrs?: Record<string, unknown>,
): Promise<Response>;

/** Send queued events now. */
export function flush(): void;

// The snippet's API for this app. The <script> tag in index.html defines the `inferwatch` global;
// when the collector is down the tag fails to load, and these fall back to doing nothing (the
// page keeps working without monitoring).
const api = () => globalThis.inferwatch;

const noGeneration = { firstToken() {}, end() {} };

export const captureException = (error, extra) => api()?.captureException(error, extra);
export const generation = (name, attrs) => api()?.generation(name, attrs) ?? noGeneration;
export const timedFetch = (name, input, init, attrs) =>
  api() ? api().timedFetch(name, input, init, attrs) : fetch(input, init);
export const flush = () => api()?.flush();

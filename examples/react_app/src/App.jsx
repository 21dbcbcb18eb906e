import { useRef, useState } from 'react';
import { ErrorBoundary } from 'inferwatch/react';
import { timedFetch } from './inferwatch.js';
import { Assistant } from './Assistant.jsx';

const json = (body) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

export function App() {
  return (
    <main>
      <header>
        <h1>A small AI app</h1>
        <p>
          Three real models trained at start-up, watched by inferwatch. Use them, then break them
          with the red buttons and read the crash reports on the{' '}
          <a href="http://127.0.0.1:8765/">dashboard</a>.
        </p>
      </header>
      <Story />
      <Sentiment />
      <ImagePanel />
      <Assistant />
    </main>
  );
}

// The names the backend records each story model under, so both records of a generation agree.
const STORY_MODELS = { small: 'story-ngram', large: 'story-large' };

/** A prompt whose answer streams in, timed by inferwatch from submit to first word to done. */
function Story() {
  const [prompt, setPrompt] = useState('The model woke up');
  const [answer, setAnswer] = useState('');
  const [state, setState] = useState('idle');

  async function generate(model) {
    setAnswer('');
    setState('waiting');
    try {
      const res = await timedFetch('story', '/api/generate', json({ prompt, model }), {
        model: STORY_MODELS[model],
        size: model,
      });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        console.error('Failed to fetch from backend:', res.status, body.error || '');
        setState(res.status === 504 ? 'cold' : 'failed');
        return;
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        setState('streaming');
        setAnswer((text) => text + decoder.decode(value, { stream: true }));
      }
      setState('done');
    } catch (err) {
      console.error('Failed to fetch from backend:', err);
      setState('failed');
    }
  }

  const busy = state === 'waiting' || state === 'streaming';
  return (
    <section aria-labelledby="story-title">
      <h2 id="story-title">Write a story</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          generate('small');
        }}
      >
        <label htmlFor="prompt">Prompt</label>
        <textarea id="prompt" name="prompt" rows="2" value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        <div className="buttons">
          <button id="generate" type="submit" disabled={busy || !prompt.trim()}>
            Generate
          </button>
          <button id="generate-large" type="button" className="fail" disabled={busy} onClick={() => generate('large')}>
            Generate with the large model (slow cold start)
          </button>
        </div>
      </form>
      <output id="answer" aria-live="polite" data-state={state}>
        {state === 'waiting' && <span className="spinner" aria-label="thinking" />}
        {answer}
        {state === 'cold' && (
          <em>The large model is still loading (cold start) and the request timed out. Try again in a few seconds.</em>
        )}
        {state === 'failed' && <em>The request failed.</em>}
      </output>
    </section>
  );
}

/** Sentiment of a sentence. Version 2 of the model did not load, and this page does not check. */
function Sentiment() {
  const [text, setText] = useState('I love how quickly it answers');
  const [result, setResult] = useState('');

  async function classify(version) {
    setResult('…');
    const res = await timedFetch('sentiment', '/api/classify', json({ text, version }), { model: 'sentiment' });
    const data = res.ok ? await res.json() : {};
    // The bug on purpose: a failed answer has no label, and this line throws (an unhandled
    // rejection, reported by the snippet with the click that led to it).
    setResult(`${data.label.toUpperCase()} (${Math.round(data.score * 100)}%)`);
  }

  return (
    <section aria-labelledby="sentiment-title">
      <h2 id="sentiment-title">Classify a sentence</h2>
      <label htmlFor="sentence">Sentence</label>
      <input id="sentence" name="sentence" value={text} onChange={(e) => setText(e.target.value)} />
      <div className="buttons">
        <button id="classify" type="button" onClick={() => classify('1')}>
          Classify
        </button>
        <button id="classify-v2" type="button" className="fail" onClick={() => classify('2')}>
          Classify with v2 (did not load)
        </button>
      </div>
      <output id="sentiment">{result}</output>
    </section>
  );
}

/** Upload an image and get its main colour. The result card assumes the upload worked. */
function ImagePanel() {
  const [result, setResult] = useState(null);
  const [message, setMessage] = useState('');
  const [attempt, setAttempt] = useState(0);
  const fileInput = useRef(null);

  async function upload(blob) {
    setMessage('Uploading…');
    setResult(null);
    const res = await timedFetch(
      'colour-namer',
      '/api/image',
      { method: 'POST', body: blob, headers: { 'Content-Type': blob.type } },
      { model: 'colour-namer' },
    );
    if (res.status === 415) {
      const body = await res.json();
      console.warn('Upload refused:', body.detail);
      setMessage(body.detail);
      return;
    }
    setMessage('');
    setResult(res.ok ? await res.json() : { status: res.status });
  }

  const sample = async () => upload(await (await fetch('/sample.jpg')).blob());
  const transparentPng = () => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 32;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = 'rgba(30, 80, 220, 0.5)';
    ctx.fillRect(0, 0, 32, 32);
    canvas.toBlob(upload, 'image/png');
  };
  const textAsPng = () => upload(new Blob(['these are my notes, not a picture'], { type: 'image/png' }));

  return (
    <section aria-labelledby="image-title">
      <h2 id="image-title">Name the colour of an image</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const file = fileInput.current.files[0];
          file && upload(file);
        }}
      >
        <label htmlFor="image">Image</label>
        <input id="image" name="image" type="file" accept="image/*" ref={fileInput} />
        <div className="buttons">
          <button id="upload" type="submit">
            Upload
          </button>
          <button id="upload-sample" type="button" onClick={sample}>
            Use the sample photo
          </button>
          <button id="upload-rgba" type="button" className="fail" onClick={transparentPng}>
            Upload a transparent PNG (bad shape)
          </button>
          <button id="upload-text" type="button" className="fail" onClick={textAsPng}>
            Upload a text file as .png (wrong type)
          </button>
        </div>
      </form>
      <p className="message">{message}</p>
      <ErrorBoundary
        key={attempt}
        fallback={(error) => (
          <p role="alert" className="crashed">
            This card crashed ({String(error && error.message)}); the error was reported.{' '}
            <button id="reset-card" type="button" onClick={() => setAttempt((n) => n + 1)}>
              Reset
            </button>
          </p>
        )}
      >
        {result && <ColourCard result={result} />}
      </ErrorBoundary>
    </section>
  );
}

function ColourCard({ result }) {
  // The bug on purpose: a failed upload has no `rgb`, and rendering it throws.
  const [r, g, b] = result.rgb;
  return (
    <p id="colour" className="card">
      <span className="swatch" style={{ background: `rgb(${r}, ${g}, ${b})` }} />
      Main colour: <strong>{result.colour}</strong> ({result.format}, {result.mode})
    </p>
  );
}

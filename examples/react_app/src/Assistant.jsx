import { useState } from 'react';
import { timedFetch } from './inferwatch.js';

const LONG_REVIEW = (
  'I love this film. The acting is great, the music is great, the story is great, and the ' +
  'ending made the whole cinema cry; I would watch it again tomorrow and the day after that. '
).repeat(3);

/** Ask the review assistant (an LLM behind the `openai` client) for a JSON summary. */
export function Assistant() {
  const [text, setText] = useState('Great acting and a lovely score');
  const [result, setResult] = useState('');

  async function summarise(review) {
    setResult('…');
    const res = await timedFetch(
      'review-assistant',
      '/api/review',
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: review }) },
      { model: 'review-assistant' },
    );
    if (!res.ok) {
      console.error('The review assistant failed:', res.status);
      setResult(`failed (${res.status})`);
      return;
    }
    const data = await res.json();
    setResult(`${data.label} (${Math.round(data.score * 100)}%): ${data.summary}`);
  }

  return (
    <section aria-labelledby="assistant-title">
      <h2 id="assistant-title">Ask the review assistant</h2>
      <label htmlFor="review">Review</label>
      <input id="review" name="review" value={text} onChange={(e) => setText(e.target.value)} />
      <div className="buttons">
        <button id="summarise" type="button" onClick={() => summarise(text)}>
          Summarise
        </button>
        <button id="summarise-long" type="button" className="fail" onClick={() => summarise(LONG_REVIEW)}>
          Summarise a long review (answer cut)
        </button>
      </div>
      <output id="assistant">{result}</output>
    </section>
  );
}

"""Three small real models, trained at start-up from the files in `data/` (no download):

- `NaiveBayes`: a multinomial naive-Bayes sentiment classifier (positive / negative);
- `WordNgram`: a word n-gram text generator, streamed a word at a time;
- `ColourNamer`: a nearest-centroid classifier naming the main colour of an RGB image.

Pure Python, so the example installs with nothing but inferwatch and Pillow.
"""

from __future__ import annotations

import csv
import logging
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).parent / "data"
logger = logging.getLogger("example.models")
_WORD = re.compile(r"[a-z']+|[.,!?]")

Pixel = tuple[int, ...]


def tokenize(text: str) -> list[str]:
    """Lower-case words and punctuation marks."""
    return _WORD.findall(text.lower())


@dataclass
class NaiveBayes:
    """Multinomial naive Bayes with add-one smoothing.

    >>> NaiveBayes.train([("positive", "good"), ("negative", "bad")]).predict("good")[0]
    'positive'
    """

    version: str = "1"
    source: str = ""
    docs: Counter[str] = field(default_factory=Counter)
    words: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    vocabulary: set[str] = field(default_factory=set)

    @classmethod
    def train(cls, rows: Sequence[tuple[str, str]], version: str = "1") -> NaiveBayes:
        model = cls(version=version)
        for label, text in rows:
            model.docs[label] += 1
            for token in tokenize(text):
                model.words[label][token] += 1
                model.vocabulary.add(token)
        return model

    @property
    def loaded(self) -> bool:
        return bool(self.docs)

    def predict(self, text: str) -> tuple[str, float]:
        """The most likely label and its probability; `("", 0.0)` when the model has no classes."""
        scores = {label: self._log_score(label, tokenize(text)) for label in self.docs}
        if not scores:
            return "", 0.0
        best = max(scores, key=lambda label: scores[label])
        total = sum(math.exp(s - scores[best]) for s in scores.values())
        return best, round(1 / total, 4)

    def _log_score(self, label: str, tokens: list[str]) -> float:
        counts = self.words[label]
        denominator = sum(counts.values()) + len(self.vocabulary)
        prior = math.log(self.docs[label] / sum(self.docs.values()))
        return prior + sum(math.log((counts[t] + 1) / denominator) for t in tokens)


def load_sentiment(version: str) -> NaiveBayes:
    """Train the sentiment model of `version` from `data/`.

    The bug on purpose: a missing file is logged and an empty model returned, as so many apps do,
    so the failure shows up later as an empty prediction (the crash report then says why).
    """
    name = "sentiment.tsv" if version == "1" else f"sentiment-v{version}.tsv"
    path = DATA / name
    try:
        with path.open(encoding="utf-8") as f:
            rows = [(label, text) for label, text in csv.reader(f, delimiter="\t")]
    except OSError as exc:
        logger.warning("sentiment model v%s did not load: %s", version, exc)
        return NaiveBayes(version=version, source=name)
    model = NaiveBayes.train(rows, version)
    model.source = name
    return model


@dataclass
class WordNgram:
    """A word n-gram model: each next word is drawn from the words that followed the last ones.

    >>> model = WordNgram.train("the cat sat . the cat ran .", order=2)
    >>> list(model.generate("the", max_words=2, seed=1))
    ['cat', 'sat']
    """

    order: int = 2
    table: dict[tuple[str, ...], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @classmethod
    def train(cls, text: str, order: int = 2) -> WordNgram:
        model = cls(order=order)
        for line in text.splitlines():
            tokens = ["<s>"] * (order - 1) + tokenize(line)
            for i in range(order - 1, len(tokens)):
                model.table[tuple(tokens[i - order + 1 : i])][tokens[i]] += 1
        return model

    def generate(self, prompt: str, *, max_words: int = 40, seed: int = 0) -> Iterator[str]:
        """Words continuing `prompt`, until a full stop after 8 words or `max_words`."""
        rng = random.Random(seed)
        context = (["<s>"] * self.order + tokenize(prompt))[-(self.order - 1) :]
        for n in range(max_words):
            choices = self.table.get(tuple(context)) or self.table[("<s>",) * (self.order - 1)]
            word = rng.choices(list(choices), weights=list(choices.values()))[0]
            yield word
            if word == "." and n >= 8:
                return
            context = [*context[1:], "<s>" if word == "." else word]


def load_stories(order: int) -> WordNgram:
    return WordNgram.train((DATA / "stories.txt").read_text(encoding="utf-8"), order)


@dataclass
class ColourNamer:
    """Names the mean colour of RGB pixels after the nearest of a few reference colours.

    >>> ColourNamer({"red": (255, 0, 0), "blue": (0, 0, 255)}).predict([(250, 10, 0)])
    ('red', (250, 10, 0))
    """

    centroids: dict[str, tuple[int, int, int]]

    def predict(self, pixels: Sequence[Pixel]) -> tuple[str, tuple[int, int, int]]:
        """The colour name of the mean pixel. Every pixel must have 3 channels (R, G, B)."""
        channels = {len(p) for p in pixels}
        if channels != {3}:
            shape = (len(pixels), *sorted(channels))
            raise ValueError(f"expected input of shape (n, 3), got {shape}")
        mean = tuple(round(sum(p[i] for p in pixels) / len(pixels)) for i in range(3))
        rgb = (mean[0], mean[1], mean[2])
        name = min(self.centroids, key=lambda n: _distance(self.centroids[n], rgb))
        return name, rgb


def _distance(a: Sequence[int], b: Sequence[int]) -> int:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))


def load_colours() -> ColourNamer:
    with (DATA / "colours.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return ColourNamer({r["name"]: (int(r["red"]), int(r["green"]), int(r["blue"])) for r in rows})

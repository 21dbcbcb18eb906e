"""The example's three small models: they learn from the committed data, and fail the way the
example needs them to."""

from __future__ import annotations

import pytest

from examples.fastapi_app import models


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I really love this, great answers", "positive"),
        ("terrible and slow, I hate it", "negative"),
    ],
)
def test_the_sentiment_model_labels_sentences_it_has_not_seen(text: str, label: str) -> None:
    model = models.load_sentiment("1")
    predicted, score = model.predict(text)
    assert predicted == label
    assert 0.5 < score <= 1


def test_a_sentiment_model_whose_data_is_missing_loads_empty_and_answers_nothing() -> None:
    model = models.load_sentiment("2")
    assert not model.loaded
    assert model.predict("I love it") == ("", 0.0)


def test_the_story_model_continues_a_prompt_with_words_from_its_corpus() -> None:
    model = models.load_stories(order=2)
    words = list(model.generate("The model", max_words=30, seed=3))
    assert 1 <= len(words) <= 30
    vocabulary = set(models.tokenize((models.DATA / "stories.txt").read_text()))
    assert set(words) <= vocabulary
    assert words == list(model.generate("The model", max_words=30, seed=3))  # seeded


def test_the_colour_namer_names_rgb_pixels_and_refuses_other_shapes() -> None:
    namer = models.load_colours()
    assert namer.predict([(30, 80, 220)] * 4)[0] == "blue"
    with pytest.raises(ValueError, match=r"expected input of shape \(n, 3\), got \(2, 4\)"):
        namer.predict([(30, 80, 220, 255)] * 2)

"""Model name -> class, imported lazily so that listing models never loads TensorFlow."""
from __future__ import annotations

import importlib

from engine.errors import EngineError

MODELS: dict[str, str] = {
    "popularity": "engine.models.popularity:PopularityRecommender",
    "itemknn": "engine.models.itemknn:ItemKNNRecommender",
    "ease": "engine.models.ease:EASERecommender",
    "als": "engine.models.als:ALSRecommender",
    "lstm": "engine.models.lstm.model:LSTMRecommender",
    "lstm_ease": "engine.models.hybrid:LSTMEASERecommender",
}
BASELINES: tuple[str, ...] = ("popularity", "itemknn", "ease", "als")
DISPLAY_NAMES: dict[str, str] = {"popularity": "MostPopular", "itemknn": "ItemKNN", "ease": "EASE", "als": "ALS",
                                 "lstm": "LSTM two-tower", "lstm_ease": "LSTM + EASE"}


def display_name(name: str) -> str:
    """The short name people know a model by ('EASE', 'LSTM two-tower'), for lists and pickers."""
    return DISPLAY_NAMES.get(name, name)


def get_model_class(name: str):
    if name not in MODELS:
        raise EngineError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    module, cls = MODELS[name].split(":")
    return getattr(importlib.import_module(module), cls)

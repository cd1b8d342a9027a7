"""How good a generator's pictures are, measured while it trains.

* :mod:`.frechet` — the Fréchet distance between two sets of features (lower = closer);
* :mod:`.features` — the small feature network (fitted on the run's labels, or seeded random);
* :mod:`.check` — one check: generated vs real images, the real-vs-real reference,
  the share of samples a classifier labels confidently and how many classes they cover.

No Qt, and nothing here draws from the training run's random streams.
"""

from engine.generative.quality.check import CONFIDENT, SAMPLES, QualityCheck, Reference
from engine.generative.quality.frechet import Stats, frechet_distance, stats_of

__all__ = ["CONFIDENT", "SAMPLES", "QualityCheck", "Reference", "Stats", "frechet_distance", "stats_of"]

"""Image folders too big for memory: images decoded per batch; to a model, just images."""

from __future__ import annotations

from dataclasses import replace

from engine.data.kinds import register_kind
from engine.data.kinds.image import IMAGE
from engine.data.streaming import StreamingImageDataset

# Cached as "image_stream" (its state holds file names, not pixels); everything else is the image kind's.
register_kind(replace(IMAGE, name="image_stream", dataset_type=StreamingImageDataset,
                      from_state=StreamingImageDataset.from_state))

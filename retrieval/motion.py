"""What a clip's motion looks like, measured once at index time and stored compactly.

- shot cuts: a jump in the colour histogram between consecutive frames (a content detector in the
  manner of PySceneDetect's, on the frames the indexer reads anyway);
- camera motion: the median optical flow (OpenCV DIS) and its divergence (zoom), summed over the clip;
- the dominant subject's trajectory: the centre of the flow that the camera does not explain, per
  frame, as fractions of the frame;
- a motion score: the mean magnitude of that residual flow, in frame widths per second;
- structure maps: low-resolution edge maps of a few frames, for structure-guided generators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

import numpy as np

from storyteller.core.errors import StorytellerError, first_line

CUT_THRESHOLD = 0.5  # histogram distance (0 same, 1 disjoint) that counts as a cut
TRAJECTORY_POINTS = 16
EDGE_SIZE = (32, 18)


@dataclass
class Motion:
    trajectory: list[tuple[float, float]] = field(default_factory=list)
    camera: tuple[float, float, float] = (0.0, 0.0, 0.0)  # dx, dy (frame fractions), relative zoom
    score: float = 0.0
    edges: list[bytes] = field(default_factory=list)  # packed bits, EDGE_SIZE each
    depth: list[bytes] = field(default_factory=list)  # uint8 maps, EDGE_SIZE each, near = bright


def cuts(frames: list[np.ndarray], threshold: float = CUT_THRESHOLD) -> list[int]:
    """Indices where a new shot starts (0 always does)."""
    import cv2  # 0.15 s to import: loaded only when clips are read or drawn

    starts, previous = [0], None
    for i, frame in enumerate(frames):
        hist = cv2.calcHist([cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)], [0, 1], None, [16, 8], [0, 180, 0, 256])
        hist = cv2.normalize(hist, None).flatten()
        if previous is not None and cv2.compareHist(previous, hist, cv2.HISTCMP_BHATTACHARYYA) > threshold:
            starts.append(i)
        previous = hist
    return starts


def measure(frames: list[np.ndarray], fps: float) -> Motion:
    """The motion guide of one clip, from its (downscaled) RGB frames sampled at `fps`."""
    import cv2  # 0.15 s to import: loaded only when clips are read or drawn

    if len(frames) < 2:
        return Motion(trajectory=[(0.5, 0.5)], edges=[_edges(frames[0])] if frames else [])
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    height, width = grey[0].shape
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)  # type: ignore[attr-defined]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    points, pan, zoom, magnitudes = [], np.zeros(2), 0.0, []
    for a, b in pairwise(grey):
        flow = dis.calc(a, b, None)
        camera = np.median(flow.reshape(-1, 2), axis=0)
        residual = flow - camera
        strength = np.linalg.norm(residual, axis=2)
        pan += camera
        dx, dy = np.gradient(flow[..., 0], axis=1), np.gradient(flow[..., 1], axis=0)
        zoom += float(np.median(dx + dy))
        magnitudes.append(float(strength.mean()) / width * fps)
        moving = strength > max(0.5, float(np.percentile(strength, 90)))
        if moving.sum() >= 4:
            weights = strength * moving
            total = weights.sum()
            points.append((float((xs * weights).sum() / total / width), float((ys * weights).sum() / total / height)))
        elif points:
            points.append(points[-1])
    trajectory = _resample(points or [(0.5, 0.5)], TRAJECTORY_POINTS)
    return Motion(
        trajectory=trajectory,
        # the picture slides against the camera: a pan to the right moves the pixels left
        camera=(float(-pan[0] / width), float(-pan[1] / height), zoom),
        score=float(np.mean(magnitudes)),
        edges=[_edges(frame) for frame in structure_frames(frames)],
    )


def structure_frames(frames: list[np.ndarray]) -> list[np.ndarray]:
    """The few frames whose structure (edges, depth) is kept: first, middle, last."""
    picks = np.linspace(0, len(frames) - 1, min(3, len(frames))).round().astype(int)
    return [frames[i] for i in picks]


def depth_maps(frames: list[np.ndarray], model_dir: str) -> list[bytes]:
    """Low-resolution depth of each frame from a local depth-estimation model (any transformers one)."""
    import cv2  # 0.15 s to import: loaded only when clips are read or drawn
    import torch

    model, processor = _depth_model(model_dir)
    with torch.no_grad():
        predicted = model(**processor(images=list(frames), return_tensors="pt")).predicted_depth
    maps = []
    for depth in predicted.float().numpy():
        small = cv2.resize(depth, EDGE_SIZE, interpolation=cv2.INTER_AREA)
        span = float(small.max() - small.min()) or 1.0
        maps.append(((small - small.min()) / span * 255).astype(np.uint8).tobytes())
    return maps


@lru_cache(maxsize=1)
def _depth_model(model_dir: str) -> tuple:
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    try:
        model = AutoModelForDepthEstimation.from_pretrained(model_dir, local_files_only=True).eval()
        return model, AutoImageProcessor.from_pretrained(model_dir, local_files_only=True)
    except (OSError, ValueError) as error:
        raise StorytellerError(f"cannot load the depth model '{model_dir}': {first_line(error)[:160]}") from None


def _resample(points: list[tuple[float, float]], n: int) -> list[tuple[float, float]]:
    array = np.asarray(points, dtype=np.float64)
    where = np.linspace(0, len(array) - 1, n)
    xs = np.interp(where, np.arange(len(array)), array[:, 0])
    ys = np.interp(where, np.arange(len(array)), array[:, 1])
    return [(round(float(x), 4), round(float(y), 4)) for x, y in zip(xs, ys, strict=True)]


def _edges(frame: np.ndarray) -> bytes:
    import cv2  # 0.15 s to import: loaded only when clips are read or drawn

    small = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), (EDGE_SIZE[0] * 4, EDGE_SIZE[1] * 4))
    edges = cv2.Canny(small, 60, 160)
    pooled = cv2.resize(edges, EDGE_SIZE, interpolation=cv2.INTER_AREA) > 32
    return np.packbits(pooled).tobytes()

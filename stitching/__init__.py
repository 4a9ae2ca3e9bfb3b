"""Stage 4, fill and stitch: shots joined on one timeline, encoded while the frames stream."""

from stitching.extras import contact_sheet, srt, write_srt
from stitching.timeline import stitch
from storyteller.core.video_io import prefetch, read_video, write_video

__all__ = ["contact_sheet", "prefetch", "read_video", "srt", "stitch", "write_srt", "write_video"]

"""The soundtrack's rate and levels: what every part of the mix is made to."""

from __future__ import annotations

RATE = 24_000  # Hz: the film's audio (speech from espeak is 22,050 Hz: more would only cost time)
TARGET_LUFS = -16.0
LIMIT_PASSES = 3  # at most: one, unless limiting took more than half a dB off (then the gain is raised)
PEAK_CEILING_DB = -2.0  # true peak, with a dB to spare for the AAC encoder's own overshoot
SPEECH_DB = -20.0  # every line's voiced RMS in the mix (levelled), before the whole is normalised
BED_DB = -30.0  # the ambience bed, before ducking, against full scale
MUSIC_DB = -22.0
DUCK = 0.25  # the bed and music under speech: a quarter of their level

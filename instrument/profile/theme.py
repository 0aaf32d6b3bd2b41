"""The one theme of every chart: palette, type sizes, labels of presence and bands."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from instrument.vocabulary import Band

# ---------------------------------------------------------------------------------------------
# The theme
# ---------------------------------------------------------------------------------------------

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
INK = "#1a1a1a"
MUTED = "#555555"
WHITE = "#ffffff"
TRACK = "#f2f2f2"
DIFFERS = "#a33f00"
HIGHLIGHT = "#fff1c2"

LABEL_SIZE = 18
TITLE_SIZE = 26
LINE_HEIGHT = LABEL_SIZE + 4

UNRATED = "unrated"
PRESENCE_ORDER: tuple[str, ...] = ("yes", "partial", "no", "omit", UNRATED)
PRESENCE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "yes": "yes",
        "partial": "partial",
        "no": "no",
        "omit": "omit (not enough information)",
        UNRATED: "not rated",
    }
)
# Okabe–Ito blue and sky blue for present, a light grey for absent, white with a dashed outline
# for omitted and not rated: the difference between `no` and `omit` never rests on colour alone.
PRESENCE_COLOURS: Mapping[str, str] = MappingProxyType(
    {"yes": "#0072B2", "partial": "#56B4E9", "no": "#d9d9d9", "omit": WHITE, UNRATED: WHITE}
)
PRESENCE_DASH: Mapping[str, list[int]] = MappingProxyType(
    {"yes": [1, 0], "partial": [1, 0], "no": [1, 0], "omit": [7, 4], UNRATED: [2, 3]}
)
PRESENCE_TEXT: Mapping[str, str] = MappingProxyType(
    {"yes": WHITE, "partial": INK, "no": INK, "omit": INK, UNRATED: MUTED}
)
# Strengths have their own colour family (Okabe–Ito bluish green, and a light tint of it), so a
# protective `yes` is never drawn like a risk `yes`.
STRENGTH_PRESENCE: Mapping[str, str] = MappingProxyType(
    {"yes": "strength-yes", "partial": "strength-partial"}
)
STRENGTH_LABELS: Mapping[str, str] = MappingProxyType(
    {"strength-yes": "strength: yes", "strength-partial": "strength: partial"}
)
STRENGTH_COLOURS: Mapping[str, str] = MappingProxyType(
    {"strength-yes": "#009E73", "strength-partial": "#A6DCC9"}
)
STRENGTH_TEXT: Mapping[str, str] = MappingProxyType(
    {"strength-yes": WHITE, "strength-partial": INK}
)
# The ink of a presence as drawn, strengths included.
SHOWN_TEXT: Mapping[str, str] = MappingProxyType({**PRESENCE_TEXT, **STRENGTH_TEXT})

BAND_ORDER: tuple[str, ...] = tuple(band.value for band in Band)
BAND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        Band.HIGH.value: "high",
        Band.MODERATE.value: "moderate",
        Band.LOW.value: "low",
        Band.INSUFFICIENT_INFORMATION.value: "insufficient information",
    }
)
# Okabe–Ito vermillion and orange, then a pale orange; too little information is white with a
# dashed outline, like an omitted item.
BAND_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        Band.HIGH.value: "#D55E00",
        Band.MODERATE.value: "#E69F00",
        Band.LOW.value: "#f8dfb4",
        Band.INSUFFICIENT_INFORMATION.value: WHITE,
    }
)
BAND_DASH: Mapping[str, list[int]] = MappingProxyType(
    {
        Band.HIGH.value: [1, 0],
        Band.MODERATE.value: [1, 0],
        Band.LOW.value: [1, 0],
        Band.INSUFFICIENT_INFORMATION.value: [7, 4],
    }
)
BAND_TEXT: Mapping[str, str] = MappingProxyType(
    {
        Band.HIGH.value: WHITE,
        Band.MODERATE.value: INK,
        Band.LOW.value: INK,
        Band.INSUFFICIENT_INFORMATION.value: INK,
    }
)

THEME: Mapping[str, Any] = MappingProxyType(
    {
        "font": FONT,
        "background": WHITE,
        "padding": 16,
        "view": {"stroke": None},
        "title": {
            "fontSize": TITLE_SIZE,
            "subtitleFontSize": LABEL_SIZE,
            "subtitleColor": MUTED,
            "anchor": "start",
            "color": INK,
            "offset": 18,
            "subtitlePadding": 8,
        },
        "axis": {
            "labelFontSize": LABEL_SIZE,
            "titleFontSize": LABEL_SIZE,
            "labelColor": INK,
            "titleColor": INK,
            "titleFontWeight": "normal",
            "labelPadding": 8,
            "titlePadding": 12,
            "gridColor": "#e3e3e3",
            "domainColor": "#888888",
            "tickColor": "#888888",
        },
        "legend": {
            "labelFontSize": LABEL_SIZE,
            "titleFontSize": LABEL_SIZE,
            "titleFontWeight": "normal",
            "labelColor": INK,
            "titleColor": INK,
            "orient": "top",
            "direction": "horizontal",
            "symbolSize": 380,
            "symbolStrokeWidth": 1.5,
            "symbolStrokeColor": INK,
            "columnPadding": 22,
            "labelLimit": 400,
            "titleLimit": 400,
            "offset": 14,
        },
        "text": {"fontSize": LABEL_SIZE, "font": FONT, "color": INK},
        "concat": {"spacing": 48},
    }
)

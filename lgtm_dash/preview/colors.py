"""Grafana colour names → CSS colours, and nothing else: a colour from a dashboard never reaches a page's CSS
unless it is one of these names, a hex colour or an rgb()/hsl() function (no `url(...)`, no `;`)."""

from __future__ import annotations

import re

# Grafana's named visualization colours (dark theme); the hues' shades are prefixed dark-, semi-dark-, light-,
# super-light-. The preview only needs them to look like Grafana's, not to match to the last digit.
_HUES = {
    "red": ("#C4162A", "#E02F44", "#F2495C", "#FF7383", "#FFA6B0"),
    "orange": ("#FA6400", "#FF780A", "#FF9830", "#FFB357", "#FFCB7D"),
    "yellow": ("#E0B400", "#F2CC0C", "#FADE2A", "#FFEE52", "#FFF899"),
    "green": ("#37872D", "#56A64B", "#73BF69", "#96D98D", "#C8F2C2"),
    "blue": ("#1F60C4", "#3274D9", "#5794F2", "#8AB8FF", "#C0D8FF"),
    "purple": ("#8F3BB8", "#A352CC", "#B877D9", "#CA95E5", "#DEB6F2"),
}
_SHADES = ("dark-", "semi-dark-", "", "light-", "super-light-")
PALETTE = {
    f"{shade}{hue}": value
    for hue, values in _HUES.items()
    for shade, value in zip(_SHADES, values, strict=True)
}
PALETTE.update({"text": "#CCCCDC", "transparent": "transparent", "white": "#FFFFFF", "black": "#000000"})
FALLBACK = "#8E8E8E"

_HEX = re.compile(r"#[0-9a-fA-F]{3,8}")
_FUNCTION = re.compile(r"(rgb|rgba|hsl|hsla)\([0-9.,%\s]+\)")
_CSS_NAME = re.compile(r"[a-zA-Z]{3,20}")


def css_color(name: object) -> str:
    """A safe CSS colour for a Grafana colour value (unknown or unsafe values → grey)."""
    if not isinstance(name, str):
        return FALLBACK
    text = name.strip()
    lowered = text.lower()
    if lowered in PALETTE:
        return PALETTE[lowered]
    if _HEX.fullmatch(text) or _FUNCTION.fullmatch(lowered) or _CSS_NAME.fullmatch(text):
        return text
    return FALLBACK

"""Dates as Vietnamese documents write them: "ngày 13 tháng 11 năm 2020", "ngày 13/11/2020"."""

from __future__ import annotations

import re

# Regex fragments (day, month, year groups) that other patterns embed.
DATE_WORDS = r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+(?:năm|ngày)\s+(\d{4})"
DATE_NUM = r"ngày\s+(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})"


def iso_date(day: int | str, month: int | str, year: int | str) -> str | None:
    d, m, y = int(day), int(month), int(year)
    if 1 <= d <= 31 and 1 <= m <= 12 and 1900 <= y <= 2100:
        return f"{y:04d}-{m:02d}-{d:02d}"
    return None


def match_date(m: re.Match[str]) -> str | None:
    """The first complete (day, month, year) triple among the match's groups, as an ISO date."""
    g = m.groups()
    for i in range(0, len(g) - 2, 3):
        if g[i] and g[i + 1] and g[i + 2]:
            return iso_date(g[i], g[i + 1], g[i + 2])
    return None

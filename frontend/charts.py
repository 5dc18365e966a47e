"""Bar charts as inline SVG, drawn on the server: no JavaScript library, readable by
screen readers (a title, a description and every value as text), scalable to any width."""

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

_ids = count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int  # in the chart's unit (minor units, votes, ...)


def bar_chart(
    bars: list[Bar],
    *,
    title: str,
    value_text: Callable[[int], str] = str,
    reference: int | None = None,
    reference_label: str = "",
    width: int = 640,
    bar_height: int = 26,
) -> SafeString:
    """Horizontal bars, one per item, each labelled with its value; an optional dashed
    reference line (the minimum wage, a quorum) with its own label."""
    chart_id = f"chart{next(_ids)}"
    if not bars:
        return format_html('<p class="helptext">{}</p>', _("%(title)s: nothing to show yet.") % {"title": title})
    label_width, value_width, top = 170, 110, 28
    plot_width = width - label_width - value_width
    largest = max([bar.value for bar in bars] + [reference or 0, 1])
    height = top + len(bars) * (bar_height + 8) + 12
    rows = []
    for index, bar in enumerate(bars):
        y = top + index * (bar_height + 8)
        length = max(0, round(plot_width * bar.value / largest))
        rows.append(
            (
                y + bar_height * 0.7,
                bar.label[:28],
                label_width,
                y,
                length,
                bar_height,
                label_width + length + 6,
                y + bar_height * 0.7,
                value_text(bar.value),
            )
        )
    body = format_html_join(
        "",
        '<text x="4" y="{}">{}</text><rect x="{}" y="{}" width="{}" height="{}" fill="#0b5f3a"></rect>'
        '<text x="{}" y="{}">{}</text>',
        rows,
    )
    line = SafeString("")
    if reference is not None:
        x = label_width + round(plot_width * reference / largest)
        line = format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#a4161a" stroke-width="2" stroke-dasharray="6 4"></line>'
            '<text x="{}" y="16" fill="#a4161a">{}</text>',
            x,
            x,
            20,
            height - 4,
            max(4, x - 60),
            reference_label,
        )
    return format_html(
        '<svg class="chart" role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" width="{w}" '
        'height="{h}" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{title}</title>'
        '<desc id="{id}-desc">{desc}</desc>{body}{line}</svg>',
        id=chart_id,
        w=width,
        h=height,
        title=title,
        desc="; ".join(f"{bar.label}: {value_text(bar.value)}" for bar in bars)
        + (f"; {reference_label}" if reference is not None else ""),
        body=body,
        line=line,
    )

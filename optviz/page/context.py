"""What one run of the page's live part hands each tab: the state it shows and what was made from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from optviz import i18n
from optviz.state import PageState


@dataclass(frozen=True)
class RunContext:
    """One run's state and its race, in the language the page is shown in."""

    state: PageState
    state_key: str  # the caches' key (caches.state_key)
    lang: str  # the page's language as of its last whole run
    surface: object  # the state's surface object (optviz.surfaces)
    race: dict  # optimizer name -> Trajectory
    chart_widths: dict  # chart key + layout -> width in pixels, as the browser reported it
    plotly_js_url: str | None  # where the race chart element loads plotly.js; None: st.plotly_chart instead
    text: dict = field(init=False, repr=False)  # the page's strings in ``lang``
    names: dict = field(init=False, repr=False)  # optimizer name -> its name in ``lang``

    def __post_init__(self):
        object.__setattr__(self, "text", i18n.text(self.lang))
        object.__setattr__(self, "names", i18n.OPTIMIZER_NAMES[self.lang])

    @property
    def layout(self) -> str:
        """Which layout the page's charts are in (presenter mode's columns are not the page's)."""
        return "/presenter" if self.state.presenter else ""

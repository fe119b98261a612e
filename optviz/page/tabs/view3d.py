"""The 3D tab: the surface with every optimizer's path on it."""

from __future__ import annotations

from optviz.page.caches import build_3d
from optviz.page.charts import plot
from optviz.page.context import RunContext


def render(ctx: RunContext) -> None:
    plot(ctx, build_3d(ctx.state_key, ctx.lang, ctx.state.presenter, ctx.state, ctx.race), "surface_3d")

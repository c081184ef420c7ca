"""Turn a params file into a report: executed notebook, emailable HTML, PDF, figures, slides, manifest."""

from cxkit.render.execute import NotebookError
from cxkit.render.preflight import Plan, preflight
from cxkit.render.run import RenderResult, render

__all__ = ["NotebookError", "Plan", "RenderResult", "preflight", "render"]

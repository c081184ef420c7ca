"""Turn a params file into a report: executed notebook, emailable HTML, PDF, figures, slides, manifest."""

from cxkit.render.execute import NotebookError
from cxkit.render.run import RenderResult, prepare, render

__all__ = ["NotebookError", "RenderResult", "prepare", "render"]

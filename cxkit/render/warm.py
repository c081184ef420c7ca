"""The papermill engine ``cxkit-warm``: papermill's own nbclient engine, on a kernel kept warm.

A batch worker renders many reports one after another. Starting a kernel and importing the kit costs
seconds per report; this engine runs each notebook on the worker's one kernel instead (started on first
use by :func:`cxkit.render.execute._warm_kernel`, its namespace emptied after every notebook, stopped when
the worker exits). It is registered through papermill's ``papermill.engine`` entry point (pyproject), so
``papermill --engine cxkit-warm in.ipynb out.ipynb`` finds it too, and by :func:`register` for a kit run
from its source.
"""

from __future__ import annotations

from pathlib import Path

from papermill.engines import NBClientEngine

__all__ = ["WarmEngine", "register"]


class WarmEngine(NBClientEngine):
    """Executes a notebook on this process's warm kernel for the notebook's folder."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        from cxkit.render.execute import _warm_kernel

        kwargs["km"] = _warm_kernel(Path(kwargs.get("cwd") or "."))
        return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)


def register() -> None:
    """Make sure papermill knows ``cxkit-warm`` (the entry point does it when the kit is installed)."""
    from papermill.engines import papermill_engines

    if "cxkit-warm" not in papermill_engines._engines:
        papermill_engines.register("cxkit-warm", WarmEngine)

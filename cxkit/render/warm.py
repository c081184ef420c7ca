"""The papermill engine ``cxkit-warm``: papermill's own nbclient engine, on a kernel kept warm.

A batch worker renders many reports one after another. Starting a kernel and importing the kit costs
seconds per report; this engine runs each notebook on the worker's one kernel instead (started on first
use by :func:`cxkit.render.kernels.warm_kernel`, its namespace emptied after every notebook by
:func:`reset_warm`, stopped when the worker exits). It is registered through papermill's
``papermill.engine`` entry point (pyproject), so ``papermill --engine cxkit-warm in.ipynb out.ipynb``
finds it too, and by :func:`register` for a kit run from its source.

Unlike papermill's engine on a kernel it does not own, it closes its kernel client's channels after
each notebook: a client left open keeps receiving every later notebook's outputs (megabytes of figures
each) into a queue nobody reads, and a worker grew by tens of MB per report.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cxkit.render.kernels import RESET_SOURCE, warm_kernel

__all__ = ["WarmEngine", "register", "reset_warm"]


class WarmEngine:
    """Executes a notebook on this process's warm kernel for the notebook's folder.

    papermill calls ``execute_notebook`` on a registered engine; this class hands it to a subclass of
    papermill's ``NBClientEngine`` made on first use, so importing this module (which papermill does
    itself when it loads its entry points) never imports papermill.
    """

    @classmethod
    def execute_notebook(cls, nb, kernel_name, **kwargs):
        return _engine().execute_notebook(nb, kernel_name, **kwargs)

    @classmethod
    def nb_kernel_name(cls, nb, name=None):
        return _engine().nb_kernel_name(nb, name)

    @classmethod
    def nb_language(cls, nb, language=None):
        return _engine().nb_language(nb, language)


@cache
def _engine():
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class Warm(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            # as NBClientEngine does, with the warm kernel's manager
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(safe_kwargs, timeout=execution_timeout or kwargs.get("timeout"),
                                        startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                                        log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
            final_kwargs["km"] = warm_kernel(Path(kwargs.get("cwd") or "."))
            client = PapermillNotebookClient(nb_man, **final_kwargs)
            try:
                return client.execute()
            finally:
                if getattr(client, "kc", None) is not None:
                    client.kc.stop_channels()
                    client.kc = None

    return Warm


def register() -> None:
    """Make sure papermill knows ``cxkit-warm`` (the entry point does it when the kit is installed)."""
    from papermill.engines import papermill_engines

    if "cxkit-warm" not in papermill_engines._engines:
        papermill_engines.register("cxkit-warm", WarmEngine)


def reset_warm(cwd: Path) -> None:
    """Empty the warm kernel's namespace (the kit stays imported), through the engine like any notebook."""
    import nbformat
    import papermill as pm

    register()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(RESET_SOURCE)],
                                  metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3"}})
    pm.execute_notebook(nb, None, kernel_name="python3", cwd=str(cwd), progress_bar=False, log_output=False,
                        engine_name="cxkit-warm")

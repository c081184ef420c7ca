"""The papermill engine ``cxkit-warm``: papermill's own nbclient engine, on a kernel kept warm.

A batch worker renders many reports one after another. Starting a kernel and importing the kit costs
seconds per report; this engine runs each notebook on the worker's one kernel instead (started on first
use by :func:`cxkit.render.kernels.warm_kernel`, its namespace emptied after every notebook by
:func:`cxkit.render.kernels.reset_namespace`, stopped when the worker exits). It is registered through papermill's
``papermill.engine`` entry point (pyproject), so ``papermill --engine cxkit-warm in.ipynb out.ipynb``
finds it too, and by :func:`register` for a kit run from its source.

Every notebook on a warm kernel goes through that kernel's one kept client
(:func:`cxkit.render.kernels.warm_client`), not a client of its own as papermill's engine would start:
starting a client costs 0.2 s, and a client left open after its notebook keeps receiving every later
notebook's outputs (megabytes of figures each) into a queue nobody reads (a worker grew by tens of MB per
report that way). The kept client reads each notebook's outputs as it runs, so nothing queues up.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cxkit.render.kernels import warm_client, warm_kernel

__all__ = ["WarmEngine", "register"]


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
            cwd = Path(kwargs.get("cwd") or ".")
            final_kwargs["km"] = warm_kernel(cwd)
            client = PapermillNotebookClient(nb_man, **final_kwargs)
            client.kc = warm_client(cwd)  # the kernel's kept client: nbclient starts none of its own
            try:
                return client.execute()
            finally:
                client.kc = None  # kept for the next notebook; stopped with its kernel

    return Warm


def register() -> None:
    """Make sure papermill knows ``cxkit-warm`` (the entry point does it when the kit is installed)."""
    from papermill.engines import papermill_engines

    if "cxkit-warm" not in papermill_engines._engines:
        papermill_engines.register("cxkit-warm", WarmEngine)

"""Set-up of the kit's own processes: the ``cxkit`` command and its batch workers.

Examples
--------
>>> skip_unused_imports()  # doctest: +SKIP
>>> import nbformat        # doctest: +SKIP
"""

from __future__ import annotations

import sys

__all__ = ["skip_unused_imports", "UNUSED_MODULES"]

#: Modules the kit's processes never use but would import. jsonschema (imported by nbformat, hence by
#: every render) imports ``rfc3987_syntax`` for its IRI format checks, which nbformat never makes, and that
#: import compiles a Lark grammar: 1.2 of nbformat's 1.4 s, paid by the command and by each batch worker.
UNUSED_MODULES = ("rfc3987_syntax",)


def skip_unused_imports() -> None:
    """Mark :data:`UNUSED_MODULES` as missing in this process (``sys.modules[name] = None``), so the packages
    that try them go without, as they do where the module is not installed.

    Only for the kit's own processes: an analyst's session that imports the kit keeps every module.
    A module already imported is left as it is.
    """
    for name in UNUSED_MODULES:
        sys.modules.setdefault(name, None)

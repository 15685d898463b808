"""Deprecated path of ``python -m gradcheck_suite.instructor.field_docs``; kept so old commands still run."""

from __future__ import annotations

import sys
import warnings

from .instructor.field_docs import main

if __name__ == "__main__":
    warnings.warn("`python -m gradcheck_suite.field_reference` is deprecated; use "
                  "`python -m gradcheck_suite.instructor.field_docs`", DeprecationWarning, stacklevel=1)
    sys.exit(main(sys.argv[1:]))

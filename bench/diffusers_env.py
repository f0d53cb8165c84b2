"""diffusers for the benchmark scripts (torch-pipeline.py, gpu/sdxl_models.py): the installed package, or else this
project's own setup of its sources, where DIFFUSERS_ENV_TOOLS names the folder of ../shared/tools/diffusers-env/pyenv.py.
"""

import os
import sys


def import_diffusers():
    try:
        import diffusers
    except ImportError:
        tools = os.environ.get("DIFFUSERS_ENV_TOOLS")
        if not tools:
            raise
        sys.path.insert(0, tools)
        import pyenv  # noqa: F401  (puts the extracted sources on the path)
        import diffusers
    return diffusers

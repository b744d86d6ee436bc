"""The compiled core (classify/_core.pyx, _norm.pyx, _records.pyx), built as optional extensions: without
Cython or a C compiler the install still succeeds and classify runs on its pure-Python path (docs/core.md)."""

import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext


class optional_build_ext(build_ext):
    """A failed build of the extension is a warning, not a failed install."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler, no Python headers
            _skipped(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            _skipped(exc)


def _skipped(exc) -> None:
    sys.stderr.write(f"Warning: classify's compiled core was not built ({exc}); classify will use its "
                     f"pure-Python path (slower).\n")


def extensions():
    try:
        import numpy
        from Cython.Build import cythonize
    except ImportError as exc:
        _skipped(exc)
        return []
    from setuptools import Extension

    ext = Extension("classify._core", ["classify/_core.pyx"], include_dirs=[numpy.get_include()],
                    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                    extra_compile_args=["-O3", "-ffp-contract=off"], optional=True)
    norm = Extension("classify._norm", ["classify/_norm.pyx"], extra_compile_args=["-O3"], optional=True)
    records = Extension("classify._records", ["classify/_records.pyx"], extra_compile_args=["-O3"], optional=True)
    try:
        return cythonize([ext, norm, records], language_level=3, quiet=True)
    except Exception as exc:
        _skipped(exc)
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": optional_build_ext})

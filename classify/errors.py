"""Typed errors raised by the core; the CLI turns them into one `Error:` line and exit code 1."""


class ClassifyError(Exception):
    """Base class of every error the command line reports without a traceback."""


class CorpusError(ClassifyError):
    """A training or evaluation table cannot be read or used."""


class InputError(ClassifyError):
    """A document to classify cannot be read."""


class ModelFileError(ClassifyError):
    """A model file is missing, not a classify model, damaged or incompatible."""


class ConfigError(ClassifyError):
    """A setting has a value that is not allowed."""


class ModelNotFitted(ValueError):
    """A model (or a feature block) is used before it was fitted: a programming error, not the user's."""

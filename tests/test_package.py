import saylau
from saylau import errors


def test_version_is_exported() -> None:
    assert saylau.__all__ == ["__version__"]
    assert isinstance(saylau.__version__, str)


def test_every_error_derives_from_the_base() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.SaylauError)

"""Exit polls: sampling design, embargoed uploads and release, design-based estimates, house effects.

Import from the modules: ``design``, ``embargo``, ``desk``, ``estimate``, ``house``, ``report``.
"""

__all__: list[str] = []

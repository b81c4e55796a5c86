"""Election forensics on station-level results: fingerprint, round numbers, digits, outliers, report.

Import from the modules: ``data``, ``load``, ``fingerprint``, ``rounding``, ``digits``, ``outliers``,
``suite``, ``plots``, ``report``, ``synthetic``, ``kzsim``.
"""

__all__: list[str] = []

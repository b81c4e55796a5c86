"""Election forensics on station-level results: fingerprint, round numbers, digits, outliers, report.

Import from the modules: ``data``, ``load``, ``fingerprint``, ``rounding``, ``digits``, ``outliers``,
``suite``, ``plots``, ``report``, ``synthetic``, ``scenario_input``.
"""

__all__: list[str] = []

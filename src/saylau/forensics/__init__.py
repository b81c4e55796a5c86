"""Election forensics on station-level results: fingerprint, round numbers, digits, outliers, report.

The package exports the station-results containers other layers hand to it (``StationResults``,
``TurnoutSnapshots``); the tests themselves are imported from the modules: ``data``, ``load``,
``fingerprint``, ``rounding``, ``digits``, ``outliers``, ``suite``, ``plots``, ``report``, ``synthetic``.
Forensics never imports the simulation: station results from a scenario's simulation are made by
``saylau.sim.forensics_input``.
"""

from saylau.forensics.data import StationResults, TurnoutSnapshots

__all__ = ["StationResults", "TurnoutSnapshots"]

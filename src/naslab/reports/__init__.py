"""Reports built only from storage: tables, figures and a self-contained HTML page.

``build_report(storage, id, out)`` renders one experiment or one comparison group
(``naslab report ID --out DIR``).
"""

from naslab.reports.build import ReportResult, build_report

__all__ = ["ReportResult", "build_report"]

"""Present stage: the self-contained HTML report and its table exports."""

from socialaudit.report.render import ReportFiles, build_report, write_report

__all__ = ["ReportFiles", "build_report", "write_report"]

"""The HTML report of the warehouse (``build_report``); see ``build``."""

from taobao_pipeline.report.build import Report, build_report, report_path

__all__ = ["Report", "build_report", "report_path"]

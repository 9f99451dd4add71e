"""Export a case as a sealed BagIt bag with CASE/UCO JSON-LD and a POSIX-sh checker."""

from forensic.export.bag import ExportError, ExportResult, export_case

__all__ = ["ExportError", "ExportResult", "export_case"]

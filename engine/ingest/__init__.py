"""Importing interaction data: sniffing and known formats (`detect_format`, `preview`), and the
validated, atomic, streaming import (`import_files`). Used by `llmrec import` and the import wizard."""
from engine.ingest.formats import DetectedFormat, Exclude, FileSniff, Mapping, Preview, detect_format, preview, sniff_file
from engine.ingest.importer import ImportProgress, ImportSummary, import_files

__all__ = ["DetectedFormat", "Exclude", "FileSniff", "ImportProgress", "ImportSummary", "Mapping", "Preview",
           "detect_format", "import_files", "preview", "sniff_file"]

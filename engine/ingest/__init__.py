"""Importing interaction data: sniffing and known formats (`detect_format`, `preview`), and the
validated, atomic, streaming import (`import_files`). Used by `llmrec import` and the import wizard."""
from engine.ingest.detected import DetectedFormat, FileSniff, Preview
from engine.ingest.formats import detect_format
from engine.ingest.importer import import_files
from engine.ingest.mapping import Exclude, Mapping
from engine.ingest.sniff import preview, sniff_file
from engine.ingest.staging import ImportProgress, ImportSummary

__all__ = ["DetectedFormat", "Exclude", "FileSniff", "ImportProgress", "ImportSummary", "Mapping", "Preview",
           "detect_format", "import_files", "preview", "sniff_file"]

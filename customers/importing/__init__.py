"""Bulk files of customers: readers, the checks per row, the import service and the export."""

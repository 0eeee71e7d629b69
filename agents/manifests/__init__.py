"""What every process that writes manifests shares: hand-in, saving, dry-run costs.

``submit`` is the ``submit_manifest`` process tool (validated at once through the MCP
``validate_manifest`` tool); ``save`` writes a manifest where it runs (its path fields
rewritten to name the same workspace files, compiled again where saved, files checked); ``costs`` keeps
the dry-run numbers a process reports and renders them as CSV and Markdown.
"""
